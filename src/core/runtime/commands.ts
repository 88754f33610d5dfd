/**
 * The bpf(2)-style command API over a Runtime: BPF_MAP_CREATE, LOOKUP_ELEM, UPDATE_ELEM,
 * DELETE_ELEM, GET_NEXT_KEY, LOOKUP_AND_DELETE_ELEM, the batch commands and FREEZE. Keys and
 * values are byte arrays of exactly key_size / value_size bytes (per-CPU maps: ncpus slots of
 * round8(value_size) bytes); failures throw BpfError with the errno's code (ENOENT, EEXIST,
 * E2BIG, EINVAL, EPERM ...), as libbpf's bpf_map_* functions return them.
 */
import { BpfError } from '../errors.js';
import { type MapAttr, allocMap, checkMapAttr } from '../maps/create.js';
import { qsPop, qsPush } from '../maps/queue.js';
import { progArrayDelete, progArrayLookup, progArrayUpdate } from './tailcall.js';
import { BPF_F_LOCK, BPF_F_RDONLY, BPF_F_WRONLY, BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_RINGBUF, EINVAL, EPERM, isQueueStack, H_MAX_ENTRIES, isHashType, isPerCpu, round8 } from '../maps/layout.js';
import { COPY_ALL_CPUS, deleteElem, getNextKey, lookupCopy, updateElem } from '../maps/ops.js';
import { errnoError } from './errno.js';
import { extDelete, extLookup, extMapCreate, extUpdate } from './ext-commands.js';
import { isExtType } from '../maps/ext.js';
import { btfSpinLock, setSpinLockOff, spinLockOff } from '../maps/spin-lock.js';
import { type Btf, parseBtf } from '../btf/index.js';
import type { MapInfo, Runtime } from './runtime.js';

/** MapCreateAttr adds a name to the creation attributes. */
export interface MapCreateAttr extends MapAttr {
  name?: string;
  /** inner_map_fd (array-of-maps, hash-of-maps) */
  innerMapFd?: number;
  /** map_extra (bloom filter: number of hash functions) */
  mapExtra?: bigint | number;
  /** BTF describing the value (btf_fd: parsed, or raw .BTF bytes), for a struct bpf_spin_lock in it */
  btf?: Btf | Uint8Array | null;
  /** btf_value_type_id: the value's type in `btf` (0: none) */
  btfValueTypeId?: number;
}

const parsed = new WeakMap<Uint8Array, Btf>();

/** valueSpinLock is the offset of the bpf_spin_lock BTF puts in the value, -1 for none; throws the kernel's errno. */
function valueSpinLock(a: MapCreateAttr): number {
  if (!a.btf || !a.btfValueTypeId) return -1;
  let btf: Btf;
  if (a.btf instanceof Uint8Array) {
    const bytes = a.btf;
    try {
      btf = parsed.get(bytes) ?? parseBtf(bytes);
    } catch {
      throw errnoError('BPF_MAP_CREATE', -EINVAL);
    }
    parsed.set(bytes, btf);
  } else btf = a.btf;
  const off = btfSpinLock(btf, a.btfValueTypeId, a.valueSize, a.mapType);
  if (off < -1) throw errnoError('BPF_MAP_CREATE', off);
  return off;
}

/** mapCreate creates a map and returns its fd. */
export function mapCreate(rt: Runtime, attr: MapCreateAttr): number {
  if (isExtType(attr.mapType)) {
    if (valueSpinLock(attr) >= 0) throw errnoError('BPF_MAP_CREATE', -95); // EOPNOTSUPP: no spin lock in these types
    return extMapCreate(rt, attr);
  }
  const a = { ...attr, mapFlags: attr.mapFlags ?? 0 };
  for (const f of ['mapType', 'keySize', 'valueSize', 'maxEntries', 'mapFlags'] as const) {
    if (!Number.isInteger(a[f]) || a[f] < 0 || a[f] > 0xffffffff) throw new BpfError('EINVAL', `BPF_MAP_CREATE: bad ${f}`);
  }
  const err = checkMapAttr(a);
  if (err) throw errnoError('BPF_MAP_CREATE', err);
  const lock = valueSpinLock(a);
  const id = rt.table.nextId;
  const s = allocMap(rt.space, a, id, rt.ncpus);
  if (typeof s === 'number') throw errnoError('BPF_MAP_CREATE', s);
  setSpinLockOff(rt.space, s.hdr, lock);
  rt.table.add(id, s.hdr);
  return rt.addMap({
    id, name: attr.name ?? '', hdr: s.hdr, mapType: a.mapType, keySize: a.keySize, valueSize: a.valueSize,
    maxEntries: rt.space.dv.getUint32(s.hdr + H_MAX_ENTRIES, true), mapFlags: a.mapFlags, values: s.values, valuesSize: s.valuesSize, frozen: false,
  }).fd;
}

/** noElements: ring buffers have no elements for the element commands (EINVAL, as Linux). */
function noElements(m: MapInfo): boolean {
  return m.mapType === BPF_MAP_TYPE_RINGBUF;
}

/** popValue is peek (del false) or pop of a queue or stack. */
function popValue(rt: Runtime, m: MapInfo, del: boolean, cmd: string): Uint8Array {
  const out = rt.scratch(round8(m.valueSize) + 64);
  const r = qsPop(rt.space, m.hdr, out, del);
  if (r) throw errnoError(cmd, r);
  return rt.space.read(out, m.valueSize);
}

/** userValueSize is the size of a value as user space passes it (all CPU slots for per-CPU maps). */
export function userValueSize(rt: Runtime, m: MapInfo): number {
  return isPerCpu(m.mapType) ? round8(m.valueSize) * rt.ncpus : m.valueSize;
}

function needSize(cmd: string, what: string, b: Uint8Array, n: number): void {
  if (b.length !== n) throw new BpfError('EINVAL', `${cmd}: ${what} is ${b.length} bytes, map wants ${n}`);
}

/** place copies byte arrays into the scratch area (each 8-aligned) and returns their addresses. */
function place(rt: Runtime, ...parts: Uint8Array[]): number[] {
  const base = rt.scratch(parts.reduce((n, p) => n + round8(p.length), 0) + 64);
  let a = base;
  return parts.map((p) => {
    rt.space.u8.set(p, a);
    const at = a;
    a += round8(p.length);
    return at;
  });
}

function put(rt: Runtime, bytes: Uint8Array): number {
  return place(rt, bytes)[0];
}

/**
 * mapLookupElem returns a copy of the value of `key`; throws ENOENT when there is none.
 * `flags`: 0 or BPF_F_LOCK (copy under the value's bpf_spin_lock).
 */
export function mapLookupElem(rt: Runtime, fd: number, key: Uint8Array, flags = 0): Uint8Array {
  if (flags !== 0 && flags !== BPF_F_LOCK) throw errnoError('BPF_MAP_LOOKUP_ELEM', -EINVAL);
  const m = rt.map(fd);
  if (m.mapFlags & BPF_F_WRONLY) throw errnoError('BPF_MAP_LOOKUP_ELEM', -EPERM);
  if (flags & BPF_F_LOCK && spinLockOff(rt.space, m.hdr) < 0) throw errnoError('BPF_MAP_LOOKUP_ELEM', -EINVAL);
  needSize('BPF_MAP_LOOKUP_ELEM', 'key', key, m.keySize);
  if (isExtType(m.mapType)) return extLookup(rt, m, key);
  if (m.mapType === BPF_MAP_TYPE_PROG_ARRAY) return progArrayLookup(rt, m, key);
  if (noElements(m)) throw errnoError('BPF_MAP_LOOKUP_ELEM', -EINVAL);
  if (isQueueStack(m.mapType)) return popValue(rt, m, false, 'BPF_MAP_LOOKUP_ELEM');
  const out = new Uint8Array(userValueSize(rt, m));
  // search and copy as one validated read (workers may be updating the map)
  if (!lookupCopy(rt.space, m.hdr, put(rt, key), out, 0, out.length, flags !== 0)) throw errnoError('BPF_MAP_LOOKUP_ELEM', -2);
  return out;
}

/** mapUpdateElem stores `value` under `key` with BPF_ANY / BPF_NOEXIST / BPF_EXIST. */
export function mapUpdateElem(rt: Runtime, fd: number, key: Uint8Array, value: Uint8Array, flags = 0): void {
  const m = rt.map(fd);
  if (m.frozen || m.mapFlags & BPF_F_RDONLY) throw errnoError('BPF_MAP_UPDATE_ELEM', -EPERM);
  // BPF_F_LOCK needs a bpf_spin_lock in the value (checked before anything type-specific, as Linux)
  if (flags & BPF_F_LOCK && spinLockOff(rt.space, m.hdr) < 0) throw errnoError('BPF_MAP_UPDATE_ELEM', -EINVAL);
  needSize('BPF_MAP_UPDATE_ELEM', 'key', key, m.keySize);
  needSize('BPF_MAP_UPDATE_ELEM', 'value', value, userValueSize(rt, m));
  if (isExtType(m.mapType)) return extUpdate(rt, m, key, value, flags >>> 0 === flags ? flags : 0xffffffff);
  if (m.mapType === BPF_MAP_TYPE_PROG_ARRAY) return progArrayUpdate(rt, m, key, value, flags);
  if (noElements(m)) throw errnoError('BPF_MAP_UPDATE_ELEM', -EINVAL);
  if (isQueueStack(m.mapType)) {
    const r = qsPush(rt.space, m.hdr, put(rt, value), flags >>> 0 === flags ? flags : 0xffffffff);
    if (r) throw errnoError('BPF_MAP_UPDATE_ELEM', r);
    return;
  }
  const [k, v] = place(rt, key, value);
  const r = updateElem(rt.space, m.hdr, k, v, flags >>> 0 === flags ? flags : 0xffffffff, COPY_ALL_CPUS);
  if (r) throw errnoError('BPF_MAP_UPDATE_ELEM', r);
}

/** mapDeleteElem removes `key`; throws ENOENT when absent, EINVAL for arrays. */
export function mapDeleteElem(rt: Runtime, fd: number, key: Uint8Array): void {
  const m = rt.map(fd);
  if (m.frozen || m.mapFlags & BPF_F_RDONLY) throw errnoError('BPF_MAP_DELETE_ELEM', -EPERM);
  needSize('BPF_MAP_DELETE_ELEM', 'key', key, m.keySize);
  if (isExtType(m.mapType)) return extDelete(rt, m, key);
  if (m.mapType === BPF_MAP_TYPE_PROG_ARRAY) return progArrayDelete(rt, m, key);
  if (noElements(m)) throw errnoError('BPF_MAP_DELETE_ELEM', -EINVAL);
  const r = deleteElem(rt.space, m.hdr, put(rt, key));
  if (r) throw errnoError('BPF_MAP_DELETE_ELEM', r);
}

/** mapGetNextKey returns the key after `key` (null: the first key); throws ENOENT after the last. */
export function mapGetNextKey(rt: Runtime, fd: number, key: Uint8Array | null): Uint8Array {
  const m = rt.map(fd);
  if (key) needSize('BPF_MAP_GET_NEXT_KEY', 'key', key, m.keySize);
  const out = rt.scratch(round8(m.keySize) * 2 + 64);
  const k = key ? out + round8(m.keySize) : 0;
  if (key) rt.space.u8.set(key, k);
  const r = getNextKey(rt.space, m.hdr, k, out);
  if (r) throw errnoError('BPF_MAP_GET_NEXT_KEY', r);
  return rt.space.read(out, m.keySize);
}

/** mapLookupAndDeleteElem returns the value of `key` and removes it (hash maps; ENOTSUPP otherwise). */
export function mapLookupAndDeleteElem(rt: Runtime, fd: number, key: Uint8Array): Uint8Array {
  const m = rt.map(fd);
  if (m.frozen || m.mapFlags & BPF_F_RDONLY) throw errnoError('BPF_MAP_LOOKUP_AND_DELETE_ELEM', -EPERM);
  if (isQueueStack(m.mapType)) return popValue(rt, m, true, 'BPF_MAP_LOOKUP_AND_DELETE_ELEM');
  if (!isHashType(m.mapType)) throw errnoError('BPF_MAP_LOOKUP_AND_DELETE_ELEM', -524);
  const v = mapLookupElem(rt, fd, key);
  mapDeleteElem(rt, fd, key);
  return v;
}

/** mapFreeze makes the map read-only for user space (programs may still write it); EBUSY when frozen. */
export function mapFreeze(rt: Runtime, fd: number): void {
  const m = rt.map(fd);
  if (m.frozen) throw errnoError('BPF_MAP_FREEZE', -16);
  m.frozen = true;
}

