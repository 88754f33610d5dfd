/**
 * The bpf(2)-style commands for the extension map types (devmap, devmap-hash, bloom filter,
 * array-of-maps, hash-of-maps), where user space passes or reads back what is not plain
 * bytes: interface indexes and program fds (devmaps), map fds and ids (maps of maps), values
 * tested rather than looked up (bloom filters). commands.ts hands these types over here.
 */
import { BpfError } from '../errors.js';
import { type ExtMapAttr, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_BLOOM_FILTER, BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH,
  BPF_MAP_TYPE_HASH_OF_MAPS, extOps } from '../maps/ext.js';
import { allocMap } from '../maps/create.js';
import { type DevVal, devhashDelete, devhashLookup, devhashUpdate, devmapDelete, devmapLookup, devmapUpdate } from '../maps/devmap.js';
import { EOPNOTSUPP, bloomPeek, bloomPush } from '../maps/bloom.js';
import { innerCompatible } from '../maps/map-in-map.js';
import { BPF_ANY, E2BIG, EINVAL, ENOENT, ENOTSUPP, H_FLAGS, H_MAX_ENTRIES, round8 } from '../maps/layout.js';
import { arrayElem } from '../maps/ops-array.js';
import { hashDelete, hashElem, hashUpdate } from '../maps/ops-hash.js';
import { errnoError } from './errno.js';
import type { MapInfo, Runtime } from './runtime.js';

/** ExtCreateAttr are the creation inputs of the extension types. */
export interface ExtCreateAttr extends ExtMapAttr {
  name?: string;
  /** inner_map_fd: the template of a map of maps */
  innerMapFd?: number;
}

const EBADF = 9;
const netdevs = new WeakMap<Runtime, (ifindex: number) => boolean>();

/**
 * setNetdevs tells the runtime which interface indexes exist (devmap updates naming others
 * fail with EINVAL, as dev_get_by_index does in Linux). Default: every ifindex in 1..2^31-1.
 */
export function setNetdevs(rt: Runtime, exists: (ifindex: number) => boolean): void {
  netdevs.set(rt, exists);
}

function netdevExists(rt: Runtime, ifindex: number): boolean {
  const f = netdevs.get(rt);
  return f ? f(ifindex) : ifindex > 0 && ifindex < 2 ** 31;
}

function fail(cmd: string, r: number): never {
  if (r === -EBADF) throw new BpfError('EBADF', `${cmd}: EBADF`);
  throw errnoError(cmd, r);
}

/** fdMap resolves a map fd given as a value (EBADF when it is no object, EINVAL when not a map). */
function fdMap(rt: Runtime, fd: number): MapInfo | number {
  if (rt.maps().some((m) => m.fd === fd)) return rt.map(fd);
  return rt.progs.fd(fd) ? -EINVAL : -EBADF;
}

/** extMapCreate is BPF_MAP_CREATE for the extension types. */
export function extMapCreate(rt: Runtime, attr: ExtCreateAttr): number {
  const a: ExtMapAttr = { ...attr, mapFlags: attr.mapFlags ?? 0 };
  for (const f of ['mapType', 'keySize', 'valueSize', 'maxEntries', 'mapFlags'] as const) {
    if (!Number.isInteger(a[f]) || a[f]! < 0 || a[f]! > 0xffffffff) throw new BpfError('EINVAL', `BPF_MAP_CREATE: bad ${f}`);
  }
  const ops = extOps(a.mapType)!;
  const mim = a.mapType === BPF_MAP_TYPE_ARRAY_OF_MAPS || a.mapType === BPF_MAP_TYPE_HASH_OF_MAPS;
  if (mim) {
    a.innerHdr = 0;
    a.tableBlock = rt.table.block;
  }
  const err = ops.check(a);
  if (err) fail('BPF_MAP_CREATE', err);
  if (mim) {
    const inner = fdMap(rt, attr.innerMapFd ?? 0);
    if (typeof inner === 'number') fail('BPF_MAP_CREATE', inner);
    // maps of maps cannot nest, and fd-holding arrays are no template (Linux: map_meta_equal missing)
    if (extOps(inner.mapType)?.valueRegion === false && inner.mapType !== BPF_MAP_TYPE_BLOOM_FILTER) fail('BPF_MAP_CREATE', -EINVAL);
    if (inner.mapType === 3) fail('BPF_MAP_CREATE', -ENOTSUPP); // no map_meta_equal
    a.innerHdr = inner.hdr;
  }
  const id = rt.table.nextId;
  const s = allocMap(rt.space, a, id, rt.ncpus);
  if (typeof s === 'number') fail('BPF_MAP_CREATE', s);
  rt.table.add(id, s.hdr);
  const dv = rt.space.dv;
  return rt.addMap({
    id, name: attr.name ?? '', hdr: s.hdr, mapType: a.mapType, keySize: a.keySize, valueSize: a.valueSize,
    maxEntries: dv.getUint32(s.hdr + H_MAX_ENTRIES, true), mapFlags: dv.getUint32(s.hdr + H_FLAGS, true),
    values: s.values, valuesSize: s.valuesSize, frozen: false,
  }).fd;
}

function u32(b: Uint8Array, off = 0): number {
  return new DataView(b.buffer, b.byteOffset, b.length).getUint32(off, true);
}

/** at copies bytes into scratch memory and returns the address. */
function at(rt: Runtime, b: Uint8Array, off = 0): number {
  const a = rt.scratch(round8(b.length) + off + 64) + off;
  rt.space.u8.set(b, a);
  return a;
}

function isDev(t: number): boolean {
  return t === BPF_MAP_TYPE_DEVMAP || t === BPF_MAP_TYPE_DEVMAP_HASH;
}

/** extLookup is BPF_MAP_LOOKUP_ELEM: the devmap value {ifindex, prog id} or the inner map id. */
export function extLookup(rt: Runtime, m: MapInfo, key: Uint8Array): Uint8Array {
  const cmd = 'BPF_MAP_LOOKUP_ELEM';
  if (m.mapType === BPF_MAP_TYPE_BLOOM_FILTER) throw new BpfError('EINVAL', `${cmd}: a bloom filter is tested with mapPeekElem(value)`);
  const space = rt.space;
  let slot: number;
  if (m.mapType === BPF_MAP_TYPE_DEVMAP) slot = devmapLookup(space, m.hdr, u32(key));
  else if (m.mapType === BPF_MAP_TYPE_DEVMAP_HASH) slot = devhashLookup(space, m.hdr, u32(key));
  else {
    const k = at(rt, key);
    slot = m.mapType === BPF_MAP_TYPE_ARRAY_OF_MAPS ? arrayElem(space, m.hdr, k) : hashElem(space, m.hdr, k);
    if (slot !== 0 && space.dv.getUint32(slot, true) === 0) slot = 0;
  }
  if (slot === 0) fail(cmd, -ENOENT);
  return space.read(slot, isDev(m.mapType) ? m.valueSize : 4);
}

/** devValidate resolves a devmap value: the device must exist, a program fd must be a program. */
function devValue(rt: Runtime, m: MapInfo, value: Uint8Array): { val: DevVal; fd: number; validate: () => number } {
  const ifindex = u32(value);
  const fd = m.valueSize === 8 ? u32(value, 4) | 0 : -1;
  const val: DevVal = { ifindex, prog: 0 };
  const validate = (): number => {
    if (ifindex === 0) return fd > 0 ? -EINVAL : 0; // Linux 6.18 accepts fd 0 with ifindex 0
    if (!netdevExists(rt, ifindex)) return -EINVAL;
    if (fd > 0) {
      const p = rt.progs.fd(fd);
      if (!p) return -EINVAL;
      val.prog = p.id;
    }
    return 0;
  };
  return { val, fd, validate };
}

/** extUpdate is BPF_MAP_UPDATE_ELEM (bloom filters: push). */
export function extUpdate(rt: Runtime, m: MapInfo, key: Uint8Array, value: Uint8Array, flags: number): void {
  const cmd = 'BPF_MAP_UPDATE_ELEM', space = rt.space;
  let r: number;
  if (m.mapType === BPF_MAP_TYPE_BLOOM_FILTER) r = bloomPush(space, m.hdr, at(rt, value), flags);
  else if (isDev(m.mapType)) {
    const d = devValue(rt, m, value);
    r = m.mapType === BPF_MAP_TYPE_DEVMAP
      ? devmapUpdate(space, m.hdr, u32(key), d.val.ifindex === 0 ? null : d.val, flags, d.validate)
      : devhashUpdate(space, m.hdr, u32(key), d.val, flags, d.validate);
  } else r = mimUpdate(rt, m, key, value, flags);
  if (r) fail(cmd, r);
}

/** mimUpdate stores inner map fd `value` (kernel order: array checks flags and index first, hash the fd). */
function mimUpdate(rt: Runtime, m: MapInfo, key: Uint8Array, value: Uint8Array, flags: number): number {
  const array = m.mapType === BPF_MAP_TYPE_ARRAY_OF_MAPS;
  if (array && flags !== BPF_ANY) return -EINVAL;
  if (array && u32(key) >= m.maxEntries) return -E2BIG;
  const inner = fdMap(rt, u32(value));
  if (typeof inner === 'number') return inner;
  if (!innerCompatible(rt.space, m.hdr, inner.hdr)) return -EINVAL;
  const idBytes = new Uint8Array(8);
  new DataView(idBytes.buffer).setUint32(0, inner.id, true);
  if (array) {
    rt.space.dv.setUint32(m.values + u32(key) * 8, inner.id, true);
    return 0;
  }
  const k = at(rt, key), v = at(rt, idBytes, round8(key.length));
  return hashUpdate(rt.space, m.hdr, k, v, flags, 0);
}

/** extDelete is BPF_MAP_DELETE_ELEM. */
export function extDelete(rt: Runtime, m: MapInfo, key: Uint8Array): void {
  const cmd = 'BPF_MAP_DELETE_ELEM', space = rt.space;
  let r: number;
  switch (m.mapType) {
    case BPF_MAP_TYPE_BLOOM_FILTER: r = -EOPNOTSUPP; break;
    case BPF_MAP_TYPE_DEVMAP: r = devmapDelete(space, m.hdr, u32(key)); break;
    case BPF_MAP_TYPE_DEVMAP_HASH: r = devhashDelete(space, m.hdr, u32(key)); break;
    case BPF_MAP_TYPE_ARRAY_OF_MAPS: {
      const i = u32(key);
      if (i >= m.maxEntries) r = -E2BIG;
      else if (space.dv.getUint32(m.values + i * 8, true) === 0) r = -ENOENT;
      else {
        space.dv.setUint32(m.values + i * 8, 0, true);
        r = 0;
      }
      break;
    }
    default: r = hashDelete(space, m.hdr, at(rt, key));
  }
  if (r) fail(cmd, r);
}

/** mapPushElem is BPF_MAP_UPDATE_ELEM without a key (queue, stack, bloom filter). */
export function bloomPushValue(rt: Runtime, m: MapInfo, value: Uint8Array, flags: number): void {
  const r = bloomPush(rt.space, m.hdr, at(rt, value), flags);
  if (r) fail('BPF_MAP_UPDATE_ELEM', r);
}

/** bloomHas is BPF_MAP_LOOKUP_ELEM on a bloom filter: true when `value` may be present. */
export function bloomHas(rt: Runtime, fd: number, value: Uint8Array): boolean {
  const m = rt.map(fd);
  if (m.mapType !== BPF_MAP_TYPE_BLOOM_FILTER) throw new BpfError('EINVAL', `map ${fd} is not a bloom filter`);
  if (value.length !== m.valueSize) throw new BpfError('EINVAL', `BPF_MAP_LOOKUP_ELEM: value is ${value.length} bytes, map wants ${m.valueSize}`);
  return bloomPeek(rt.space, m.hdr, at(rt, value)) === 0;
}
