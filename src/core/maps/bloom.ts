/**
 * Bloom filter maps (BPF_MAP_TYPE_BLOOM_FILTER), as kernel/bpf/bloom_filter.c: no keys;
 * push sets nr_hash_funcs bits of a power-of-two bit array, peek tests them (no false
 * negatives, some false positives). Bit i of value v is jhash(v, seed + i) & mask (jhash2 for
 * sizes that are multiples of 4), the bit array has roundup_pow_of_two(max_entries *
 * nr_hash_funcs * 7 / 5) bits (at least 64), and the seed is random unless BPF_F_ZERO_SEED:
 * with a zero seed the same values set the same bits as in Linux.
 *
 * Header aux fields: +80 nr_hash_funcs, +84 bit mask, +88 seed. Bits are set with Atomics
 * when the memory is shared (workers pushing at once lose no bit).
 */
import type { AddressSpace } from '../vm/memory.js';
import { BPF_ANY, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_F_WRONLY_PROG, E2BIG, EINVAL, ENOENT, H_AUX, H_VALUES, H_VALUE_SIZE } from './layout.js';
import { type ExtMapAttr, type ExtMapOps, allocHeader, notAllowed, u32At } from './ext.js';
import { jhash, jhash2 } from './jhash.js';

/** EOPNOTSUPP is what pop, delete and get_next_key return on a bloom filter. */
export const EOPNOTSUPP = 95;
const BPF_F_NUMA_NODE = 1 << 2, BPF_F_ZERO_SEED = 1 << 6;
const ACCESS = BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;
const KMALLOC_MAX_SIZE = 1 << 22;
const B_NHASH = H_AUX, B_MASK = H_AUX + 4, B_SEED = H_AUX + 8;

function accessOk(f: number): boolean {
  return !((f & BPF_F_RDONLY) && (f & BPF_F_WRONLY)) && !((f & BPF_F_RDONLY_PROG) && (f & BPF_F_WRONLY_PROG));
}

function check(a: ExtMapAttr): number {
  const f = a.mapFlags ?? 0, extra = BigInt(a.mapExtra ?? 0);
  if (a.valueSize > KMALLOC_MAX_SIZE) return -E2BIG;
  if (a.keySize !== 0 || a.valueSize === 0 || a.maxEntries === 0) return -EINVAL;
  if ((f & ~(BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | ACCESS)) !== 0 || !accessOk(f) || (extra & ~0xfn) !== 0n) return -EINVAL;
  return 0;
}

/** geometry is the kernel's bit array size (bytes) and mask for max_entries and k hash functions. */
export function bloomGeometry(maxEntries: number, k: number): { bytes: number; mask: number } {
  let bits = maxEntries * k;
  if (bits > 0xffffffff || Math.floor(bits / 5) * 7 > 0xffffffff || Math.floor(bits / 5) * 7 > 2 ** 31) {
    return { bytes: 2 ** 29, mask: 0xffffffff };
  }
  bits = Math.floor(bits / 5) * 7;
  if (bits <= 64) bits = 64;
  else {
    let p = 1;
    while (p < bits) p *= 2;
    bits = p;
  }
  return { bytes: Math.ceil(bits / 64) * 8, mask: bits - 1 };
}

function alloc(space: AddressSpace, a: ExtMapAttr, id: number) {
  const k = Number(BigInt(a.mapExtra ?? 0)) || 5;
  const g = bloomGeometry(a.maxEntries, k);
  const s = allocHeader(space, a, id, g.bytes, 0);
  if (typeof s === 'number') return s;
  const dv = space.dv;
  dv.setUint32(s.hdr + B_NHASH, k, true);
  dv.setUint32(s.hdr + B_MASK, g.mask, true);
  const seed = ((a.mapFlags ?? 0) & BPF_F_ZERO_SEED) !== 0 ? 0 : Math.floor(Math.random() * 2 ** 32) >>> 0;
  dv.setUint32(s.hdr + B_SEED, seed, true);
  space.u8.fill(0, s.values, s.values + g.bytes);
  return s;
}

function bitOf(space: AddressSpace, hdr: number, val: number, size: number, i: number): number {
  const seed = (u32At(space, hdr + B_SEED) + i) | 0;
  const h = size % 4 === 0 ? jhash2(space.dv, val, size / 4, seed) : jhash(space.u8, val, size, seed);
  return (h & u32At(space, hdr + B_MASK)) >>> 0;
}

/** bloomPush sets the bits of the value at `val` (flags must be BPF_ANY). */
export function bloomPush(space: AddressSpace, hdr: number, val: number, flags: number): number {
  if (flags !== BPF_ANY) return -EINVAL;
  const size = u32At(space, hdr + H_VALUE_SIZE), bits = u32At(space, hdr + H_VALUES), k = u32At(space, hdr + B_NHASH);
  const u8 = space.u8;
  for (let i = 0; i < k; i++) {
    const b = bitOf(space, hdr, val, size, i);
    const at = bits + Math.floor(b / 8), m = 1 << (b & 7);
    if (space.shared) Atomics.or(u8, at, m);
    else u8[at] |= m;
  }
  return 0;
}

/** bloomPeek returns 0 when every bit of the value at `val` is set (maybe present), else -ENOENT. */
export function bloomPeek(space: AddressSpace, hdr: number, val: number): number {
  const size = u32At(space, hdr + H_VALUE_SIZE), bits = u32At(space, hdr + H_VALUES), k = u32At(space, hdr + B_NHASH);
  const u8 = space.u8;
  for (let i = 0; i < k; i++) {
    const b = bitOf(space, hdr, val, size, i);
    const byte = space.shared ? Atomics.load(u8, bits + Math.floor(b / 8)) : u8[bits + Math.floor(b / 8)];
    if ((byte & (1 << (b & 7))) === 0) return -ENOENT;
  }
  return 0;
}

/** bloomOps: BLOOM_FILTER (programs use map_push_elem / map_peek_elem, see runtime/ext-helpers.ts). */
export const bloomOps: ExtMapOps = {
  check,
  alloc,
  lookup: () => notAllowed('bpf_map_lookup_elem', 'bloom filter'),
  update: () => notAllowed('bpf_map_update_elem', 'bloom filter'),
  delete: () => notAllowed('bpf_map_delete_elem', 'bloom filter'),
  getNextKey: () => -EOPNOTSUPP,
  valueRegion: false,
};
