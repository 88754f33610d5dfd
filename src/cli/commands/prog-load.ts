/**
 * `tsbpf prog load|loadall|show` (bpftool's words): load an object's programs (C source is
 * compiled first), verify them, report each, and pin them; list pinned programs.
 * `prog load FILE PIN` pins the first (or --section) program at PIN; `prog loadall FILE DIR`
 * pins every program at DIR/<name>; `pinmaps DIR` pins the maps at DIR/<name> too.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { BpfError, isBpfError } from '../../core/errors.js';
import type { ProgramSpec } from '../../core/elf/spec.js';
import { Runtime } from '../../core/runtime/runtime.js';
import { openObject } from '../../core/runtime/loader.js';
import { loadObject, type LoadObjectOptions } from '../../core/runtime/object.js';
import type { Collection } from '../../core/runtime/object-collection.js';
import { verifierHook } from '../../core/runtime/object-prepare.js';
import type { MapPinning } from '../../core/runtime/object-maps.js';
import { pinMap } from '../../core/runtime/pin.js';
import { describePinned, pinProgram } from '../../core/runtime/pin-prog.js';
import { compileC } from '../../node/bcc/index.js';
import { defaultPinRoot, fileStore } from '../../node/pin/index.js';
import { DEFAULT_ENGINE, loadEngine } from '../engines.js';
import type { CliIo } from '../io.js';
import { readFileChecked, selectProgram } from '../program-input.js';

/** pinOptions is the by-name pinning of the CLI: files under `root` (default pin root). */
export function pinOptions(root?: string): MapPinning {
  return { store: fileStore, root: root ?? defaultPinRoot() };
}

/** FileLoadOptions select what loadFileObject loads. */
export interface FileLoadOptions extends Omit<LoadObjectOptions, 'programs'> {
  /** one program: --section's, or the first */
  one?: boolean;
  section?: string;
}

/** loadFileObject opens an object (or compiles C) and loads the selected programs into a new runtime. */
export async function loadFileObject(file: string, bytes: Uint8Array, o: FileLoadOptions): Promise<{ coll: Collection; failed: number }> {
  const obj = openObject(file.endsWith('.c') ? compileC(new TextDecoder().decode(bytes), { name: file }) : bytes);
  const programs = o.one || o.section !== undefined ? [selectProgram(obj.spec, file, o.section).name] : undefined;
  let failed = 0;
  const onProgramError = o.onProgramError ? (p: ProgramSpec, e: unknown) => { failed++; o.onProgramError!(p, e); } : undefined;
  const coll = loadObject(new Runtime(), obj.spec, { ...o, programs, btfBytes: obj.btfBytes, onProgramError });
  return { coll, failed };
}

const LOAD_OPTIONS = {
  section: { type: 'string' },
  engine: { type: 'string', default: DEFAULT_ENGINE },
  'no-verify': { type: 'boolean', default: false },
  'log-level': { type: 'string', default: '0' },
  'pin-root': { type: 'string' },
} as const;

function parseLoad(argv: string[], what: string) {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: LOAD_OPTIONS });
  const pos = [...positionals];
  let pinmaps: string | undefined;
  const i = pos.indexOf('pinmaps');
  if (i >= 0) {
    pinmaps = pos[i + 1];
    if (!pinmaps) throw new BpfError('EINVAL', 'pinmaps needs a directory');
    pos.splice(i, 2);
  }
  if (pos.length < 1 || pos.length > 2) throw new BpfError('EINVAL', `usage: tsbpf prog ${what} FILE [PIN] [pinmaps DIR]`);
  const level = Number(values['log-level']);
  if (!Number.isInteger(level) || level < 0 || level > 2) throw new BpfError('EINVAL', `--log-level must be 0, 1 or 2`);
  return { values, file: pos[0], pin: pos[1], pinmaps, level };
}

async function loadForCli(argv: string[], io: CliIo, what: 'load' | 'loadall') {
  const a = parseLoad(argv, what);
  const bytes = readFileChecked(a.file, io);
  const engine = await loadEngine(a.values.engine);
  const verify = a.values['no-verify'] ? false as const : verifierHook({
    logLevel: a.level, onLog: (p, log) => { if (a.level > 0) io.stdout(`${p.name}: ${log.trimEnd()}\n`); },
  });
  const onProgramError = (p: ProgramSpec, e: unknown): void => {
    io.stderr(`Error: ${p.name} (${p.sectionName}): ${isBpfError(e) ? `${e.message} [${e.code}]` : String(e)}\n`);
  };
  const r = await loadFileObject(a.file, bytes, { section: a.values.section, engine, verify, onProgramError, pins: pinOptions(a.values['pin-root']) });
  for (const p of Object.values(r.coll.programs)) io.stdout(`loaded ${p.name}: ${p.type} (section ${p.sectionName}, ${p.insns.length} insns)\n`);
  if (a.pinmaps) for (const [name, fd] of r.coll.fds) pinMap(r.coll.rt, fileStore, fd, join(a.pinmaps, name.replace(/^\./, '')));
  return { ...a, ...r };
}

/** progLoad implements `tsbpf prog load FILE [--section S] [PIN]`. */
export async function progLoad(argv: string[], io: CliIo): Promise<number> {
  const r = await loadForCli(argv, io, 'load');
  const first = Object.values(r.coll.programs)[0];
  if (r.pin && first && r.failed === 0) {
    pinProgram(r.coll.rt, fileStore, first, r.coll.fds, r.pin);
    io.stdout(`pinned ${first.name} at ${r.pin}\n`);
  }
  r.coll.close();
  return r.failed === 0 ? 0 : 1;
}

/** progLoadAll implements `tsbpf prog loadall FILE [PINDIR]`. */
export async function progLoadAll(argv: string[], io: CliIo): Promise<number> {
  const r = await loadForCli(argv, io, 'loadall');
  if (r.pin && r.failed === 0) {
    for (const p of Object.values(r.coll.programs)) pinProgram(r.coll.rt, fileStore, p, r.coll.fds, join(r.pin, p.name));
    io.stdout(`pinned ${Object.keys(r.coll.programs).length} programs under ${r.pin}\n`);
  }
  r.coll.close();
  return r.failed === 0 ? 0 : 1;
}

/** progShow implements `tsbpf prog show [PATH...]`: pinned programs (default: under the pin root). */
export async function progShow(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', short: 'j', default: false } } });
  const roots = positionals.length ? positionals : [defaultPinRoot()];
  const paths = roots.flatMap((p) => (statSync(p, { throwIfNoEntry: false })?.isDirectory() ? fileStore.list(p) : [p]));
  const progs = paths.map((p) => describePinned(fileStore, p)).filter((x) => x?.kind === 'prog');
  if (positionals.length && progs.length === 0) throw new BpfError('ENOENT', `no pinned program at ${positionals.join(', ')}`);
  if (values.json) {
    io.stdout(JSON.stringify(progs.map((p, i) => ({ id: i + 1, type: p!.type, name: p!.name, insns: p!.size, pinned: [p!.path] }))) + '\n');
    return 0;
  }
  progs.forEach((p, i) => io.stdout(`${i + 1}: ${p!.type}  name ${p!.name}\n\txlated ${p!.size * 8}B\n\tpinned ${p!.path}\n`));
  return 0;
}
