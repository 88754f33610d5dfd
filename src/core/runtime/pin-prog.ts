/**
 * Pinning programs: a pinned program is saved with its instructions (CO-RE already applied),
 * its map relocations, and for each map it uses either the path where that map is pinned
 * (shared: a later `get` uses the pinned map) or, for maps not pinned, a snapshot of the map
 * taken at pin time. `getPinnedProgram` rebuilds and loads it in any runtime.
 */
import { BpfError } from '../errors.js';
import type { ProgramSpec } from '../elf/spec.js';
import { decode, encode, fromHex, toHex } from '../isa/instruction.js';
import type { Engine, EngineOptions } from '../vm/engine.js';
import { jit } from '../jit/index.js';
import type { Runtime } from './runtime.js';
import { BpfProgram } from './object-program.js';
import { relocateMaps, type VerifyHook } from './object-prepare.js';
import { PIN_KIND_MAP, PIN_KIND_PROG, PinReader, PinWriter, unwrapPin, wrapPin } from './pin-format.js';
import { decodeMapSnapshot, encodeMapSnapshot, openPinnedMap, pinnedPath, restoreMap, snapshotMap, type PinStore } from './pin.js';

interface ProgHeader {
  spec: Omit<ProgramSpec, 'insns'>;
  insns: string;
  /** per map name: where it is pinned, or the index of its inline snapshot */
  maps: Array<{ name: string; path?: string; inline?: number }>;
}

/** pinProgram saves `prog` at `path`; `fds` are the collection's maps by name. */
export function pinProgram(rt: Runtime, store: PinStore, prog: BpfProgram, fds: Map<string, number>, path: string): void {
  const names = [...new Set(prog.spec.relocations.map((r) => r.map))];
  const inline: Uint8Array[] = [];
  const maps = names.map((name) => {
    const fd = fds.get(name);
    if (fd === undefined) throw new BpfError('E_PIN', `program "${prog.name}" uses map "${name}", which is not loaded`);
    const p = pinnedPath(rt, store, fd);
    if (p) return { name, path: p };
    inline.push(encodeMapSnapshot(snapshotMap(rt, fd)));
    return { name, inline: inline.length - 1 };
  });
  const { insns: _skip, ...spec } = prog.spec;
  const w = new PinWriter().json({ spec, insns: toHex(encode(prog.insns, true)), maps } satisfies ProgHeader);
  for (const b of inline) w.bytes(b);
  store.write(path, wrapPin(PIN_KIND_PROG, w.finish()));
}

/** GetProgramOptions load a pinned program. */
export interface GetProgramOptions extends EngineOptions {
  engine?: Engine;
  cpu?: number;
  verify?: VerifyHook;
}

/** getPinnedProgram loads the program pinned at `path` into `rt`. */
export function getPinnedProgram(rt: Runtime, store: PinStore, path: string, opts: GetProgramOptions = {}): BpfProgram {
  const bytes = store.read(path);
  if (!bytes) throw new BpfError('E_PIN', `${path}: nothing is pinned there`);
  const { kind, payload } = unwrapPin(bytes, path);
  if (kind !== PIN_KIND_PROG) throw new BpfError('E_PIN', `${path}: pinned object is not a program`);
  const r = new PinReader(payload, path);
  const h = r.json<ProgHeader>();
  const inline: Uint8Array[] = [];
  while (!r.done) inline.push(r.bytes());
  const fds = new Map<string, number>();
  for (const m of h.maps) {
    if (m.path) fds.set(m.name, openPinnedMap(rt, store, m.path));
    else fds.set(m.name, restoreMap(rt, decodeMapSnapshot(inline[m.inline ?? -1] ?? new Uint8Array(0), `${path} (map ${m.name})`)));
  }
  const spec: ProgramSpec = { ...h.spec, insns: decode(fromHex(h.insns), true) };
  const insns = spec.insns.map((i) => ({ ...i }));
  relocateMaps(spec, insns, fds);
  opts.verify?.(insns, spec, rt);
  const loaded = rt.load(opts.engine ?? jit, insns, { checked: opts.checked, cpu: opts.cpu });
  return new BpfProgram(rt, spec, insns, loaded, opts.cpu ?? 0);
}

/** PinnedInfo describes one pinned object. */
export interface PinnedInfo {
  path: string;
  kind: 'map' | 'prog';
  name: string;
  /** program type, or map type number as text */
  type: string;
  /** programs: instruction count; maps: number of entries */
  size: number;
}

/** describePinned reads what is pinned at `path` (null when it is not a usable pin). */
export function describePinned(store: PinStore, path: string): PinnedInfo | null {
  const bytes = store.read(path);
  if (!bytes) return null;
  try {
    const { kind, payload } = unwrapPin(bytes, path);
    if (kind === PIN_KIND_MAP) {
      const s = decodeMapSnapshot(bytes, path);
      return { path, kind: 'map', name: s.name, type: String(s.mapType), size: s.entries.length };
    }
    const h = new PinReader(payload, path).json<ProgHeader>();
    return { path, kind: 'prog', name: h.spec.name, type: h.spec.type, size: h.insns.length / 16 };
  } catch {
    return null;
  }
}
