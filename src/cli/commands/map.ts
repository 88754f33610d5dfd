/**
 * `tsbpf map dump|lookup|update|delete|getnext MAP ...` in bpftool's words and output format
 * ("key: .. value: ..", per-CPU "value (CPU 00): ..", "Found N elements", -j JSON with "0x.."
 * byte strings). MAP is `pinned PATH` (a map pinned by `prog load ... pinmaps DIR`, by name
 * from `prog run`, or by the object API) or `name NAME` (looked up under the pin root).
 * Updates and deletes are written back to the pin. Maps whose pin carries BTF key/value types
 * (loaded from an object built with -g) print `dump` and `lookup` through them as bpftool does:
 * plain text is bpftool's pretty BTF JSON (no "Found" line), `-j` adds a "formatted" member;
 * other maps print bytes.
 */
import { basename } from 'node:path';
import { cpus } from 'node:os';
import { BpfError, isBpfError } from '../../core/errors.js';
import { btfValue, JsonWriter, parseBtf, type Btf } from '../../core/btf/index.js';
import type { MapMeta } from '../../core/runtime/pin.js';
import { BPF_MAP_TYPE_PROG_ARRAY, isPerCpu, isQueueStack, round8 } from '../../core/maps/layout.js';
import * as cmd from '../../core/runtime/commands.js';
import { type MapInfo, Runtime } from '../../core/runtime/runtime.js';
import { defaultPinRoot, fileStore, openPinned } from '../../node/pin/index.js';
import type { CliIo } from '../io.js';

const USAGE = `Usage: tsbpf map { dump | getnext } MAP [key BYTES] [-j]
       tsbpf map { lookup | delete } MAP key BYTES [-j]
       tsbpf map update MAP key BYTES value BYTES [any | exist | noexist]
MAP := { pinned PATH | name NAME }   (NAME is searched under --pin-root, default $TSBPF_PIN_ROOT)
       tsbpf map dump control SOCKET [name NAME]   (the maps of a switch running with --control SOCKET)
BYTES := [hex] BYTE...   (each BYTE in C notation: 0x1f, 31, 037; with "hex" all hex)
`;

interface Target {
  rt: Runtime;
  fd: number;
  info: MapInfo;
  sync(): void;
  /** the map's BTF types, when it has a typed value */
  btf: MapBtf | null;
}

/** MapBtf is a map's BTF with its key (0: none) and value type ids. */
interface MapBtf { btf: Btf; key: number; value: number }

/** mapCommand dispatches `tsbpf map SUBCOMMAND`. */
export async function mapCommand(argv: string[], io: CliIo): Promise<number> {
  const json = argv.includes('-j') || argv.includes('--json');
  const args = argv.filter((a) => a !== '-j' && a !== '--json' && a !== '-p');
  const [sub, ...rest] = args;
  if (!sub || sub === 'help') {
    io.stdout(USAGE);
    return sub ? 0 : 1;
  }
  try {
    // a running switch's maps, through its control socket
    if (sub === 'dump' && rest[0] === 'control') return await (await import('./switch-maps.js')).switchMapDump(rest, io, json);
    const { target, rest: after } = openTarget(rest);
    const run = SUBCOMMANDS[sub];
    if (!run) throw new BpfError('EINVAL', `unknown map command "${sub}"`);
    return run(target, after, io, json);
  } catch (e) {
    if (!isBpfError(e)) throw e;
    io.stderr(`Error: ${e.message}\n`);
    return 1;
  }
}

type Sub = (t: Target, args: string[], io: CliIo, json: boolean) => number;
const SUBCOMMANDS: Record<string, Sub> = { dump, lookup, update, delete: del, getnext };

function openTarget(args: string[]): { target: Target; rest: string[] } {
  let root = defaultPinRoot();
  const ri = args.indexOf('--pin-root');
  if (ri >= 0) {
    root = args[ri + 1] ?? root;
    args = [...args.slice(0, ri), ...args.slice(ri + 2)];
  }
  const [kind, what, ...rest] = args;
  if (!what) throw new BpfError('EINVAL', 'MAP expected: pinned PATH or name NAME');
  let path: string;
  if (kind === 'pinned') path = what;
  else if (kind === 'name') {
    const hits = fileStore.list(root).filter((p) => basename(p) === what);
    if (hits.length === 0) throw new BpfError('ENOENT', `no map named "${what}" pinned under ${root}`);
    if (hits.length > 1) throw new BpfError('EINVAL', `several maps named "${what}": ${hits.join(', ')}`);
    path = hits[0];
  } else throw new BpfError('EINVAL', `MAP must be "pinned PATH" or "name NAME", not "${kind}"`);
  // per-CPU values have one slot per CPU of this machine, as the pinning runtime had
  const p = openPinned(path, new Runtime({ cpus: cpus().length || 1 }));
  return { target: { rt: p.rt, fd: p.fd, info: p.info, sync: p.sync, btf: mapBtf(p.meta) }, rest };
}

// mapBtf parses a pinned map's BTF; BTF that does not parse leaves the map printed as bytes.
function mapBtf(meta: MapMeta): MapBtf | null {
  if (!meta.btf || !meta.btfValueTypeId) return null;
  try {
    return { btf: parseBtf(meta.btf), key: meta.btfKeyTypeId, value: meta.btfValueTypeId };
  } catch (e) {
    if (isBpfError(e)) return null;
    throw e;
  }
}

/** parseBytes reads bpftool's BYTES (C-notation numbers, or all hex after "hex"). */
function parseBytes(tokens: string[], what: string): Uint8Array {
  const hex = tokens[0] === 'hex';
  const out = (hex ? tokens.slice(1) : tokens).map((t) => {
    const v = hex ? parseInt(t, 16) : /^0x/i.test(t) ? parseInt(t, 16) : /^0[0-7]+$/.test(t) ? parseInt(t, 8) : /^\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isInteger(v) || v < 0 || v > 255 || (hex && !/^[0-9a-f]{1,2}$/i.test(t))) throw new BpfError('EINVAL', `error parsing byte: ${t} (in ${what})`);
    return v;
  });
  return Uint8Array.from(out);
}

/** takeBytes splits `args` at keyword `kw`: the BYTES after it (up to the next keyword). */
function takeBytes(args: string[], kw: string, stop: string[]): Uint8Array | null {
  const i = args.indexOf(kw);
  if (i < 0) return null;
  let j = i + 1;
  while (j < args.length && !stop.includes(args[j])) j++;
  return parseBytes(args.slice(i + 1, j), kw);
}

function needKey(t: Target, args: string[]): Uint8Array {
  const k = takeBytes(args, 'key', ['value', 'any', 'exist', 'noexist']) ?? (t.info.keySize === 0 ? new Uint8Array(0) : null);
  if (!k) throw new BpfError('EINVAL', 'did not find key');
  if (k.length !== t.info.keySize) throw new BpfError('EINVAL', `key has ${k.length} bytes, map key size is ${t.info.keySize}`);
  return k;
}

/** hexBytes is bpftool's fprint_hex: a space between bytes, two after every 8th, a newline after every 16th. */
function hexBytes(b: Uint8Array): string {
  let s = '';
  b.forEach((x, i) => {
    s += (i === 0 ? '' : i % 16 === 0 ? '\n' : i % 8 === 0 ? '  ' : ' ') + x.toString(16).padStart(2, '0');
  });
  return s;
}

function jsonBytes(b: Uint8Array): string[] {
  return [...b].map((x) => `0x${x.toString(16).padStart(2, '0')}`);
}

function ncpus(t: Target): number {
  return isPerCpu(t.info.mapType) ? t.rt.ncpus : 1;
}

/** plainEntry is bpftool's print_entry_plain. */
function plainEntry(t: Target, key: Uint8Array, value: Uint8Array): string {
  const ks = t.info.keySize, vs = t.info.valueSize;
  if (isPerCpu(t.info.mapType)) {
    const step = round8(vs);
    let s = `key:\n${hexBytes(key)}\n`;
    for (let c = 0; c < ncpus(t); c++) {
      s += `value (CPU ${String(c).padStart(2, '0')}):${vs > 16 ? '\n' : ' '}${hexBytes(value.subarray(c * step, c * step + vs))}\n`;
    }
    return s;
  }
  const brk = ks > 16 || vs > 16, single = ks + vs <= 24 && !brk;
  let s = '';
  if (ks) s += `key:${brk ? '\n' : ' '}${hexBytes(key)}${single ? '  ' : '\n'}`;
  if (vs) {
    s += t.info.mapType === BPF_MAP_TYPE_PROG_ARRAY
      ? `value: ${new DataView(value.buffer, value.byteOffset).getInt32(0, true)}`
      : `value:${brk ? '\n' : ' '}${hexBytes(value)}`;
  }
  return `${s}\n`;
}

function jsonEntry(t: Target, key: Uint8Array, value: Uint8Array): unknown {
  if (!isPerCpu(t.info.mapType)) return { key: jsonBytes(key), value: jsonBytes(value) };
  const step = round8(t.info.valueSize);
  return {
    key: jsonBytes(key),
    values: [...Array(ncpus(t)).keys()].map((cpu) => ({ cpu, value: jsonBytes(value.subarray(cpu * step, cpu * step + t.info.valueSize)) })),
  };
}

/** btfEntry writes one entry through BTF as bpftool's do_dump_btf: key (if typed), value or per-CPU values. */
function btfEntry(w: JsonWriter, t: Target, b: MapBtf, key: Uint8Array, value: Uint8Array, plain: boolean): void {
  const show = (id: number, bytes: Uint8Array) => btfValue(b.btf, id, bytes, b.btf.littleEndian, plain);
  w.begin('{');
  if (b.key) w.name('key').value(show(b.key, key));
  if (!isPerCpu(t.info.mapType)) w.name('value').value(show(b.value, value));
  else {
    const step = round8(t.info.valueSize);
    w.name('values').begin('[');
    for (let c = 0; c < ncpus(t); c++) {
      w.begin('{').name('cpu').raw(String(c)).name('value').value(show(b.value, value.subarray(c * step, c * step + t.info.valueSize))).end('}');
    }
    w.end(']');
  }
  w.end('}');
}

/** jsonBtfEntry is bpftool's print_entry_json for a map with BTF: bytes, then "formatted". */
function jsonBtfEntry(w: JsonWriter, t: Target, b: MapBtf, key: Uint8Array, value: Uint8Array): void {
  const plain = jsonEntry(t, key, value) as Record<string, unknown>;
  w.begin('{');
  for (const [k, v] of Object.entries(plain)) w.name(k).raw(JSON.stringify(v));
  w.name('formatted');
  btfEntry(w, t, b, key, value, false);
  w.end('}');
}

/** printBtf prints entries through BTF: a list (dump) or one object (lookup). */
function printBtf(t: Target, b: MapBtf, all: Array<[Uint8Array, Uint8Array]>, json: boolean, list: boolean): string {
  const w = new JsonWriter(!json);
  if (list) w.begin('[');
  for (const [k, v] of all) {
    if (json) jsonBtfEntry(w, t, b, k, v);
    else btfEntry(w, t, b, k, v, true);
  }
  if (list) w.end(']');
  return w.text();
}

function entries(t: Target): Array<[Uint8Array, Uint8Array]> {
  const out: Array<[Uint8Array, Uint8Array]> = [];
  if (isQueueStack(t.info.mapType)) return out; // no keys: bpftool dumps nothing either
  let k: Uint8Array | null = null;
  for (;;) {
    try {
      k = cmd.mapGetNextKey(t.rt, t.fd, k);
    } catch (e) {
      if (isBpfError(e) && e.code === 'ENOENT') return out;
      throw e;
    }
    try {
      out.push([k, cmd.mapLookupElem(t.rt, t.fd, k)]);
    } catch (e) {
      if (!isBpfError(e) || e.code !== 'ENOENT') throw e; // empty prog array slots are skipped
    }
  }
}

function dump(t: Target, _args: string[], io: CliIo, json: boolean): number {
  const all = entries(t);
  if (t.btf) {
    io.stdout(printBtf(t, t.btf, all, json, true));
    return 0;
  }
  if (json) {
    io.stdout(`${JSON.stringify(all.map(([k, v]) => jsonEntry(t, k, v)))}\n`);
    return 0;
  }
  for (const [k, v] of all) io.stdout(plainEntry(t, k, v));
  io.stdout(`Found ${all.length} element${all.length === 1 ? '' : 's'}\n`);
  return 0;
}

function lookup(t: Target, args: string[], io: CliIo, json: boolean): number {
  const key = needKey(t, args);
  let v: Uint8Array;
  try {
    v = cmd.mapLookupElem(t.rt, t.fd, key);
  } catch (e) {
    if (!isBpfError(e) || e.code !== 'ENOENT') throw e;
    io.stdout(json ? 'null\n' : `key:\n${hexBytes(key)}\n\nNot found\n`);
    return 254; // bpftool exits with -ENOENT & 0xff
  }
  if (t.btf) io.stdout(printBtf(t, t.btf, [[key, v]], json, false));
  else io.stdout(json ? `${JSON.stringify(jsonEntry(t, key, v))}\n` : plainEntry(t, key, v));
  return 0;
}

function update(t: Target, args: string[], io: CliIo, json: boolean): number {
  const key = needKey(t, args);
  let value = takeBytes(args, 'value', ['key', 'any', 'exist', 'noexist']);
  if (!value) throw new BpfError('EINVAL', 'did not find value');
  const want = cmd.userValueSize(t.rt, t.info);
  if (value.length === t.info.valueSize && want !== value.length) {
    // one value for a per-CPU map: the same on every CPU (as bpftool does)
    const all = new Uint8Array(want);
    for (let c = 0; c < t.rt.ncpus; c++) all.set(value, c * round8(t.info.valueSize));
    value = all;
  }
  const flags = args.includes('noexist') ? 1 : args.includes('exist') ? 2 : 0;
  cmd.mapUpdateElem(t.rt, t.fd, key, value, flags);
  t.sync();
  if (json) io.stdout('null\n');
  return 0;
}

function del(t: Target, args: string[], io: CliIo, json: boolean): number {
  cmd.mapDeleteElem(t.rt, t.fd, needKey(t, args));
  t.sync();
  if (json) io.stdout('null\n');
  return 0;
}

function getnext(t: Target, args: string[], io: CliIo, json: boolean): number {
  const key = args.includes('key') ? needKey(t, args) : null;
  const next = cmd.mapGetNextKey(t.rt, t.fd, key);
  if (json) {
    io.stdout(`${JSON.stringify({ key: key ? jsonBytes(key) : null, next_key: jsonBytes(next) })}\n`);
    return 0;
  }
  io.stdout(`${key ? `key:\n${hexBytes(key)}\n` : 'key: None\n'}next key:\n${hexBytes(next)}\n`);
  return 0;
}
