/**
 * Creating a map's header and storage in the address space, with the kernel's attribute
 * checks (map_create / *_alloc_check): the same inputs give the same errno as Linux.
 */
import type { AddressSpace } from '../vm/memory.js';
import {
  BPF_F_MMAPABLE, BPF_F_NO_PREALLOC, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_F_WRONLY_PROG,
  BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK, BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE_LRU_PERCPU_HASH, E2BIG, EINVAL, ENOMEM, ENOTSUPP,
  H_BUCKETS, H_FREE, H_HASHES, H_KEYS, H_NBUCKETS, H_NEXT, isArrayType, isHashType, isLruType, isPerCpu, round8,
} from './layout.js';
import { H_LRU, lruBlockSize, lruInit } from './lru.js';
import { qsInit } from './queue.js';
import { lpmInit, lpmStorageSize } from './lpm.js';
import { allocHeader, bucketsFor, extOps } from './ext.js';

/** MapAttr are the BPF_MAP_CREATE inputs (bpf_attr field names in camelCase). */
export interface MapAttr {
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags?: number;
}

const BPF_F_NO_COMMON_LRU = 1 << 1, BPF_F_NUMA_NODE = 1 << 2, BPF_F_ZERO_SEED = 1 << 6;
const BPF_F_PRESERVE_ELEMS = 1 << 11, BPF_F_INNER_MAP = 1 << 12;
const ACCESS_MASK = BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;
const ARRAY_FLAGS = BPF_F_NUMA_NODE | BPF_F_MMAPABLE | ACCESS_MASK | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;
const HASH_FLAGS = BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | ACCESS_MASK | BPF_F_ZERO_SEED;
/** PCPU_MIN_UNIT_SIZE bounds per-CPU values (as in Linux). */
const PCPU_MIN_UNIT_SIZE = 32768;
/** KMALLOC_MAX_SIZE (4 KiB pages, MAX_PAGE_ORDER 10) and sizeof(struct htab_elem) bound hash elements. */
const KMALLOC_MAX_SIZE = 1 << 22, HTAB_ELEM_SIZE = 48;

function accessOk(flags: number): boolean {
  const both = (a: number, b: number): boolean => (flags & a) !== 0 && (flags & b) !== 0;
  return !both(BPF_F_RDONLY, BPF_F_WRONLY) && !both(BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG);
}

/** checkMapAttr returns 0 when the kernel would accept `a` for an array or hash map, else -errno. */
export function checkMapAttr(a: MapAttr): number {
  const flags = a.mapFlags ?? 0, t = a.mapType;
  const ext = extOps(t);
  if (ext) return ext.check(a);
  if (!accessOk(flags)) return -EINVAL;
  // BPF_F_NUMA_NODE pins memory to a node (node 0 here): refused for per-CPU maps
  if ((flags & BPF_F_NUMA_NODE) !== 0 && isPerCpu(t)) return -EINVAL;
  if (t === BPF_MAP_TYPE_LPM_TRIE) {
    if (a.maxEntries === 0 || (flags & BPF_F_NO_PREALLOC) === 0) return -EINVAL;
    if ((flags & ~(BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | ACCESS_MASK)) !== 0) return -EINVAL;
    if (a.keySize < 5 || a.keySize > 260 || a.valueSize < 1 || a.valueSize > KMALLOC_MAX_SIZE - 256 - 48) return -EINVAL;
    return 0;
  }
  if (t === BPF_MAP_TYPE_QUEUE || t === BPF_MAP_TYPE_STACK) {
    if (a.maxEntries === 0 || a.keySize !== 0 || a.valueSize === 0) return -EINVAL;
    if ((flags & ~(BPF_F_NUMA_NODE | ACCESS_MASK)) !== 0) return -EINVAL;
    return a.valueSize > KMALLOC_MAX_SIZE ? -E2BIG : 0;
  }
  if (t === BPF_MAP_TYPE_RINGBUF) {
    // ringbuf_map_alloc: no key or value, a power-of-two page-multiple size
    const n = a.maxEntries;
    if ((flags & ~BPF_F_NUMA_NODE) !== 0 || a.keySize !== 0 || a.valueSize !== 0) return -EINVAL;
    if (n < 4096 || (n & (n - 1)) !== 0 || n % 4096 !== 0) return -EINVAL;
    return 0;
  }
  if (t === BPF_MAP_TYPE_PROG_ARRAY) {
    // fd arrays: u32 values, no program access flags; then the array rules
    if (a.valueSize !== 4 || (flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) !== 0) return -EINVAL;
    if (a.maxEntries === 0 || a.keySize !== 4 || (flags & ~ARRAY_FLAGS) !== 0) return -EINVAL;
    if ((flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP | BPF_F_PRESERVE_ELEMS)) !== 0) return -EINVAL;
    return 0;
  }
  if (isArrayType(t)) {
    if (a.maxEntries === 0 || a.keySize !== 4 || a.valueSize === 0 || (flags & ~ARRAY_FLAGS) !== 0) return -EINVAL;
    if (t !== BPF_MAP_TYPE_ARRAY && (flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP)) !== 0) return -EINVAL;
    if ((flags & BPF_F_PRESERVE_ELEMS) !== 0) return -EINVAL; // perf event arrays only
    if (isPerCpu(t) && round8(a.valueSize) > PCPU_MIN_UNIT_SIZE) return -E2BIG;
    return 0;
  }
  if (isHashType(t)) {
    const lru = t === BPF_MAP_TYPE_LRU_HASH || t === BPF_MAP_TYPE_LRU_PERCPU_HASH;
    if ((flags & ~HASH_FLAGS) !== 0) return -EINVAL;
    if (!lru && (flags & BPF_F_NO_COMMON_LRU) !== 0) return -EINVAL;
    if (lru && (flags & BPF_F_NO_PREALLOC) !== 0) return -ENOTSUPP;
    if (a.maxEntries === 0 || a.keySize === 0 || a.valueSize === 0) return -EINVAL;
    if (a.keySize + a.valueSize >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE) return -E2BIG;
    if (isPerCpu(t) && round8(a.valueSize) > PCPU_MIN_UNIT_SIZE) return -E2BIG;
    return 0;
  }
  return -EINVAL;
}

/** MapStorage is where a created map lives. */
export interface MapStorage {
  /** header address (what programs hold as the map pointer) */
  hdr: number;
  /** value storage [values, values + valuesSize) */
  values: number;
  valuesSize: number;
}

/**
 * allocMap lays out header and storage for a checked `a` (checkMapAttr returned 0) with
 * table id `id` and `ncpus` CPUs, and returns where they are; throws RangeError-free: returns
 * -ENOMEM when the storage would be too large.
 */
export function allocMap(space: AddressSpace, a: MapAttr, id: number, ncpus: number): MapStorage | number {
  const t = a.mapType;
  const ext = extOps(t);
  if (ext) return ext.alloc(space, a, id, ncpus);
  const slots = isPerCpu(t) ? ncpus : 1;
  const stride = round8(a.valueSize), estride = stride * slots;
  const lru = isLruType(t), percpuLru = lru && ((a.mapFlags ?? 0) & BPF_F_NO_COMMON_LRU) !== 0;
  const n = percpuLru ? percpuLruEntries(a.maxEntries, ncpus) : a.maxEntries;
  // ring buffers: the data area and the area taking records that run past its end
  const qs = t === BPF_MAP_TYPE_QUEUE || t === BPF_MAP_TYPE_STACK;
  const valuesSize = t === BPF_MAP_TYPE_RINGBUF ? 2 * n : qs ? (n + 1) * estride : n * estride;
  const hash = isHashType(t);
  const kstride = round8(a.keySize);
  const nb = hash ? bucketsFor(n) : 0;
  const lpm = t === BPF_MAP_TYPE_LPM_TRIE;
  const extra = hash ? n * kstride + n * 4 + n * 4 + nb * 4 : lpm ? lpmStorageSize(n, kstride, a.keySize) : 0;
  const lruSize = lru ? lruBlockSize(n, ncpus, percpuLru) : 0;
  if (nb > 2 ** 30) return -ENOMEM;
  const s = allocHeader(space, a, id, valuesSize, extra + lruSize, { stride, slots, maxEntries: n });
  if (typeof s === 'number') return s;
  const { hdr, values } = s;
  const dv = space.dv;
  const put = (off: number, v: number): void => dv.setUint32(hdr + off, v, true);
  if (hash) {
    const keys = values + valuesSize, hashes = keys + n * kstride, next = hashes + n * 4, buckets = next + n * 4;
    put(H_KEYS, keys); put(H_HASHES, hashes); put(H_NEXT, next); put(H_BUCKETS, buckets); put(H_NBUCKETS, nb);
    // free list: element 0 first, so allocation order is deterministic
    for (let i = 0; i < n; i++) dv.setUint32(next + i * 4, i + 2 <= n ? i + 2 : 0, true);
    put(H_FREE, 1);
    if (lru) {
      const at = buckets + nb * 4;
      put(H_LRU, at);
      lruInit(space, at, n, ncpus, percpuLru);
    }
  }
  if (qs) qsInit(space, hdr, n);
  if (lpm) lpmInit(space, hdr, values + valuesSize);
  return s;
}

/** percpuLruEntries: BPF_F_NO_COMMON_LRU rounds max_entries to a multiple of the CPU count (as Linux). */
function percpuLruEntries(max: number, ncpus: number): number {
  const up = Math.ceil(max / ncpus) * ncpus;
  return up < max || up > 0xffffffff ? Math.floor(max / ncpus) * ncpus : up;
}
