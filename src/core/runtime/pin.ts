/**
 * Pinning maps: a map pinned at a path is saved (attributes, BTF, every key/value pair) to a
 * PinStore, and a later process (or runtime) that opens the path gets a map with the same
 * contents. Within one runtime a path stays bound to its live map: opening it again returns
 * the same fd, and `syncPins` rewrites every bound map (after program runs, before exit).
 *
 * Crash safety belongs to the store: `write` must replace a file atomically (the Node store
 * writes a temporary file, fsyncs and renames it over the old one), and every container is
 * checksummed (pin-format.ts), so a reader sees the old snapshot or the new one, never a mix.
 */
import { BpfError, isBpfError } from '../errors.js';
import { COPY_ALL_CPUS, updateElem } from '../maps/ops.js';
import { BPF_MAP_TYPE_PROG_ARRAY, round8 } from '../maps/layout.js';
import { mapCreate, mapFreeze, mapGetNextKey, mapLookupElem, userValueSize } from './commands.js';
import type { Runtime } from './runtime.js';
import { PIN_KIND_MAP, PinReader, PinWriter, unwrapPin, wrapPin } from './pin-format.js';

/** PinStore is where pinned objects live (files on Node, memory in a browser). */
export interface PinStore {
  /** read returns the bytes at `path`, or null when nothing is pinned there */
  read(path: string): Uint8Array | null;
  /** write replaces `path` atomically: readers see the old bytes or the new ones */
  write(path: string, bytes: Uint8Array): void;
  /** remove deletes `path`; false when absent */
  remove(path: string): boolean;
  /** list returns the pinned paths under `dir` (recursively) */
  list(dir: string): string[];
}

/** MemoryPinStore keeps pins in memory (tests, browsers). */
export class MemoryPinStore implements PinStore {
  private readonly files = new Map<string, Uint8Array>();
  /** read implements PinStore.read. */
  read(path: string): Uint8Array | null {
    return this.files.get(path)?.slice() ?? null;
  }
  /** write implements PinStore.write. */
  write(path: string, bytes: Uint8Array): void {
    this.files.set(path, bytes.slice());
  }
  /** remove implements PinStore.remove. */
  remove(path: string): boolean {
    return this.files.delete(path);
  }
  /** list implements PinStore.list. */
  list(dir: string): string[] {
    const pre = dir.endsWith('/') ? dir : `${dir}/`;
    return [...this.files.keys()].filter((p) => p.startsWith(pre)).sort();
  }
}

/** MapMeta is what a map carries besides its attributes: its BTF for pretty-printing. */
export interface MapMeta {
  /** raw .BTF blob of the object the map came from, or null */
  btf: Uint8Array | null;
  btfKeyTypeId: number;
  btfValueTypeId: number;
}

/** MapSnapshot is a map's full state. */
export interface MapSnapshot extends MapMeta {
  name: string;
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags: number;
  frozen: boolean;
  /** key/value pairs; per-CPU values hold every CPU's slot (round8(value_size) each) */
  entries: Array<[Uint8Array, Uint8Array]>;
  /** CPU count the per-CPU values were saved with */
  ncpus: number;
}

const metas = new WeakMap<Runtime, Map<number, MapMeta>>();
const bindings = new WeakMap<Runtime, { store: PinStore; byPath: Map<string, number> }[]>();

/** setMapMeta records BTF information for map `fd` (the loader calls it). */
export function setMapMeta(rt: Runtime, fd: number, meta: MapMeta): void {
  let m = metas.get(rt);
  if (!m) metas.set(rt, (m = new Map()));
  m.set(fd, meta);
}

/** mapMeta returns the BTF information of map `fd`. */
export function mapMeta(rt: Runtime, fd: number): MapMeta {
  return metas.get(rt)?.get(fd) ?? { btf: null, btfKeyTypeId: 0, btfValueTypeId: 0 };
}

function tryOr<T>(fn: () => T, code: string, fallback: T): T {
  try {
    return fn();
  } catch (e) {
    if (isBpfError(e) && e.code === code) return fallback;
    throw e;
  }
}

/**
 * snapshotMap reads the whole state of map `fd`. Prog arrays are saved empty (their values
 * are programs of this runtime, meaningless elsewhere); maps that cannot be iterated (queue,
 * stack, ring buffer) cannot be pinned.
 */
export function snapshotMap(rt: Runtime, fd: number): MapSnapshot {
  const m = rt.map(fd);
  const entries: Array<[Uint8Array, Uint8Array]> = [];
  for (let k: Uint8Array | null = null; m.mapType !== BPF_MAP_TYPE_PROG_ARRAY;) {
    const prev = k;
    try {
      k = mapGetNextKey(rt, fd, prev);
    } catch (e) {
      if (isBpfError(e) && e.code === 'ENOENT') break;
      if (isBpfError(e)) throw new BpfError('E_PIN', `map ${m.name || fd}: contents of map type ${m.mapType} cannot be saved (${e.detail})`);
      throw e;
    }
    const v = tryOr(() => mapLookupElem(rt, fd, k!), 'ENOENT', null);
    if (v) entries.push([k, v]);
  }
  return {
    ...mapMeta(rt, fd), name: m.name, mapType: m.mapType, keySize: m.keySize, valueSize: m.valueSize,
    maxEntries: m.maxEntries, mapFlags: m.mapFlags, frozen: m.frozen, entries, ncpus: rt.ncpus,
  };
}

/** encodeMapSnapshot serialises a snapshot into a pin container. */
export function encodeMapSnapshot(s: MapSnapshot): Uint8Array {
  const w = new PinWriter().json({
    name: s.name, mapType: s.mapType, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries,
    mapFlags: s.mapFlags, frozen: s.frozen, btfKeyTypeId: s.btfKeyTypeId, btfValueTypeId: s.btfValueTypeId,
    count: s.entries.length, ncpus: s.ncpus,
  }).bytes(s.btf ?? new Uint8Array(0));
  for (const [k, v] of s.entries) w.bytes(k).bytes(v);
  return wrapPin(PIN_KIND_MAP, w.finish());
}

type MapHeader = Omit<MapSnapshot, 'entries' | 'btf'> & { count: number };

/** decodeMapSnapshot parses a pin container holding a map. */
export function decodeMapSnapshot(bytes: Uint8Array, path: string): MapSnapshot {
  const { kind, payload } = unwrapPin(bytes, path);
  if (kind !== PIN_KIND_MAP) throw new BpfError('E_PIN', `${path}: pinned object is not a map`);
  const r = new PinReader(payload, path);
  const h = r.json<MapHeader>();
  const btf = r.bytes();
  const entries: Array<[Uint8Array, Uint8Array]> = [];
  for (let i = 0; i < h.count; i++) entries.push([r.bytes().slice(), r.bytes().slice()]);
  return { ...h, btf: btf.length ? btf.slice() : null, entries };
}

/** restoreMap creates a map from a snapshot and fills it (ignoring user-space write bans). */
export function restoreMap(rt: Runtime, s: MapSnapshot): number {
  const fd = mapCreate(rt, { mapType: s.mapType, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries, mapFlags: s.mapFlags, name: s.name,
    btf: s.btf, btfValueTypeId: s.btfValueTypeId }); // BTF: a bpf_spin_lock in the value
  for (const [k, v] of s.entries) rawUpdate(rt, fd, k, resizePerCpu(rt, fd, v, s.ncpus));
  if (s.frozen) mapFreeze(rt, fd);
  setMapMeta(rt, fd, { btf: s.btf, btfKeyTypeId: s.btfKeyTypeId, btfValueTypeId: s.btfValueTypeId });
  return fd;
}

// resizePerCpu adapts per-CPU values saved with another CPU count (extra CPUs get zeros).
function resizePerCpu(rt: Runtime, fd: number, v: Uint8Array, ncpus: number): Uint8Array {
  const want = userValueSize(rt, rt.map(fd));
  if (v.length === want || ncpus === rt.ncpus) return v;
  const out = new Uint8Array(want);
  out.set(v.subarray(0, Math.min(want, v.length)));
  return out;
}

/** rawUpdate writes an element the way the loader does: BPF_ANY, no user-space access checks. */
export function rawUpdate(rt: Runtime, fd: number, key: Uint8Array, value: Uint8Array): void {
  const m = rt.map(fd);
  const base = rt.scratch(round8(key.length) + value.length + 64);
  rt.space.u8.set(key, base);
  rt.space.u8.set(value, base + round8(key.length));
  const r = updateElem(rt.space, m.hdr, base, base + round8(key.length), 0, COPY_ALL_CPUS);
  if (r) throw new BpfError('EINVAL', `map ${m.name}: cannot store element (errno ${-r})`);
}

function bound(rt: Runtime, store: PinStore): Map<string, number> {
  let list = bindings.get(rt);
  if (!list) bindings.set(rt, (list = []));
  let b = list.find((x) => x.store === store);
  if (!b) list.push((b = { store, byPath: new Map() }));
  return b.byPath;
}

/** pinMap saves map `fd` at `path` and binds them: later syncs rewrite the file. */
export function pinMap(rt: Runtime, store: PinStore, fd: number, path: string): void {
  store.write(path, encodeMapSnapshot(snapshotMap(rt, fd)));
  bound(rt, store).set(path, fd);
}

/** openPinnedMap returns the map pinned at `path` in `rt` (the same fd when already open). */
export function openPinnedMap(rt: Runtime, store: PinStore, path: string): number {
  const b = bound(rt, store);
  const open = b.get(path);
  if (open !== undefined) return open;
  const bytes = store.read(path);
  if (!bytes) throw new BpfError('E_PIN', `${path}: nothing is pinned there`);
  const fd = restoreMap(rt, decodeMapSnapshot(bytes, path));
  b.set(path, fd);
  return fd;
}

/** pinnedPath returns the path map `fd` is pinned at in `store`, if any. */
export function pinnedPath(rt: Runtime, store: PinStore, fd: number): string | undefined {
  for (const [p, f] of bound(rt, store)) if (f === fd) return p;
  return undefined;
}

/** syncPins rewrites every pinned map of `rt` with its current contents. */
export function syncPins(rt: Runtime): void {
  for (const { store, byPath } of bindings.get(rt) ?? []) {
    for (const [path, fd] of byPath) store.write(path, encodeMapSnapshot(snapshotMap(rt, fd)));
  }
}

/** unpinPath removes the pin at `path` (the live map stays). */
export function unpinPath(rt: Runtime, store: PinStore, path: string): boolean {
  bound(rt, store).delete(path);
  return store.remove(path);
}
