/**
 * LPM trie maps (BPF_MAP_TYPE_LPM_TRIE) with the kernel's semantics (kernel/bpf/lpm_trie.c):
 * keys are { u32 prefixlen; u8 data[] } (data in network order, IPv4 4 bytes, IPv6 16),
 * lookups return the value of the longest stored prefix matching the first
 * min(prefixlen, stored prefixlen) bits, updates and deletes address a prefix exactly (bits past
 * prefixlen ignored for matching; stored as last written), get_next_key walks the trie in
 * post-order (more specific prefixes before the prefixes containing them; 0-bit branch first).
 *
 * Storage, all in map memory so the Wasm map runtime walks the same trie (wasm-lpm.ts):
 * element slots (value, key, in-use word H_HASHES, free-list link H_NEXT) and a binary
 * path-compressed trie of nodes. Node x < max_entries is element slot x (its prefix is the
 * slot's key); nodes max_entries .. 2 max_entries - 1 are intermediate nodes (a branching
 * point no element holds; their prefix bytes in their own data area). Every intermediate node
 * has exactly two children, so there are fewer intermediate nodes than elements. Node record
 * (lpmNodeSize bytes): child 0, child 1 (node + 1; 0 none), prefix length, data address (the
 * record's own copy of the prefix bytes right after these words, so a walk touches one cache
 * line per node; an element node's copy is taken when it is linked, the key itself keeps the
 * bytes as last written). Header aux: root (node + 1), node array, intermediate free list
 * (node + 1, linked by child 0), node record size.
 */
import type { AddressSpace } from '../vm/memory.js';
import {
  BPF_EXIST, BPF_NOEXIST, EEXIST, EINVAL, ENOENT, ENOSPC, H_AUX, H_COUNT, H_ESTRIDE, H_FREE, H_HASHES, H_KEYS,
  H_KEY_SIZE, H_KSTRIDE, H_MAX_ENTRIES, H_NEXT, H_VALUES, H_VALUE_SIZE, round8,
} from './layout.js';
import { lockMap, unlockMap } from './lock.js';

/** Header aux fields of LPM tries. */
export const H_LPM_ROOT = H_AUX + 4, H_LPM_NODES = H_AUX + 8, H_LPM_IMFREE = H_AUX + 12, H_LPM_NSTRIDE = H_AUX + 16;
/** LN_* are the fields of a node record; LN_BYTES the prefix copy. */
export const LN_PLEN = 8, LN_DATA = 12, LN_BYTES = 16;

/** lpmNodeSize is the size of a node record for keys of `keySize` bytes. */
export function lpmNodeSize(keySize: number): number {
  return LN_BYTES + round8(keySize - 4);
}

function field(dv: DataView, hdr: number, off: number): number {
  return dv.getUint32(hdr + off, true);
}

function keyAt(dv: DataView, hdr: number, i: number): number {
  return field(dv, hdr, H_KEYS) + i * field(dv, hdr, H_KSTRIDE);
}

function used(dv: DataView, hdr: number, i: number): boolean {
  return dv.getUint32(field(dv, hdr, H_HASHES) + i * 4, true) !== 0;
}

/** lpmStorageSize is the bytes an LPM trie of `n` elements needs after its values. */
export function lpmStorageSize(n: number, kstride: number, keySize: number): number {
  return n * kstride + n * 8 + 2 * n * lpmNodeSize(keySize);
}

/** lpmInit lays out the storage of a new LPM trie from `at` (after the values) and threads its free lists. */
export function lpmInit(space: AddressSpace, hdr: number, at: number): void {
  const dv = space.dv, n = field(dv, hdr, H_MAX_ENTRIES), ks = field(dv, hdr, H_KSTRIDE);
  const ns = lpmNodeSize(field(dv, hdr, H_KEY_SIZE));
  const keys = at, inUse = keys + n * ks, next = inUse + n * 4, nodes = next + n * 4;
  const put = (off: number, v: number): void => dv.setUint32(hdr + off, v, true);
  put(H_KEYS, keys); put(H_HASHES, inUse); put(H_NEXT, next); put(H_LPM_NODES, nodes); put(H_LPM_NSTRIDE, ns);
  for (let i = 0; i < n; i++) dv.setUint32(next + i * 4, i + 2 <= n ? i + 2 : 0, true);
  put(H_FREE, n > 0 ? 1 : 0);
  for (let x = 0; x < 2 * n; x++) {
    dv.setUint32(nodes + x * ns + LN_DATA, nodes + x * ns + LN_BYTES, true);
    // free intermediate nodes are chained through child 0
    if (x >= n) dv.setUint32(nodes + x * ns, x + 2 < 2 * n ? x + 2 : 0, true);
  }
  put(H_LPM_IMFREE, n > 0 ? n + 1 : 0);
}

/** Trie is a view of one map's trie (all state in memory). */
class Trie {
  readonly dv: DataView;
  readonly u8: Uint8Array;
  readonly n: number;
  readonly nodes: number;
  readonly ns: number;
  /** data bytes of a key (key_size - 4) */
  readonly ds: number;

  constructor(space: AddressSpace, readonly hdr: number) {
    const dv = (this.dv = space.dv);
    this.u8 = space.u8;
    this.n = field(dv, hdr, H_MAX_ENTRIES);
    this.nodes = field(dv, hdr, H_LPM_NODES);
    this.ns = field(dv, hdr, H_LPM_NSTRIDE);
    this.ds = field(dv, hdr, H_KEY_SIZE) - 4;
  }

  rec(x: number): number {
    return this.nodes + x * this.ns;
  }
  childRef(x: number, b: number): number {
    return this.rec(x) + b * 4;
  }
  plen(x: number): number {
    return this.dv.getUint32(this.rec(x) + LN_PLEN, true);
  }
  data(x: number): number {
    return this.dv.getUint32(this.rec(x) + LN_DATA, true);
  }
  get(ref: number): number {
    return this.dv.getUint32(ref, true);
  }
  set(ref: number, v: number): void {
    this.dv.setUint32(ref, v, true);
  }
  bit(data: number, i: number): number {
    return (this.u8[data + (i >> 3)] >> (7 - (i & 7))) & 1;
  }
  /** matchLen is the number of leading bits (at most `limit`) the data at a and b share. */
  matchLen(a: number, b: number, limit: number): number {
    const u8 = this.u8, nb = (limit + 7) >> 3;
    for (let k = 0; k < nb; k++) {
      const x = u8[a + k] ^ u8[b + k];
      if (x !== 0) return Math.min(limit, k * 8 + Math.clz32(x) - 24);
    }
    return limit;
  }
  /** steps bounds a walk (prefix lengths grow along a path; a lock-free reader racing a writer retries) */
  get maxSteps(): number {
    return this.ds * 8 + 2;
  }

  /**
   * descend walks from the root by the key's bits over nodes of length <= `max`, without
   * comparing prefixes: the deepest such node, its reference and its parent's (-1: none).
   */
  descend(key: number, max: number, cb?: (x: number, pl: number) => void): { x: number; ref: number; parentRef: number } {
    let ref = this.hdr + H_LPM_ROOT, parentRef = -1, last = { x: -1, ref: -1, parentRef: -1 };
    for (let steps = 0; steps < this.maxSteps; steps++) {
      const v = this.get(ref);
      if (v === 0) break;
      const x = v - 1, pl = this.plen(x);
      if (pl > max) break;
      cb?.(x, pl);
      last = { x, ref, parentRef };
      if (pl === max) break;
      parentRef = ref;
      ref = this.childRef(x, this.bit(key, pl));
    }
    return last;
  }

  /**
   * lookup: the element slot of the longest prefix matching `len` bits of the data at `key`,
   * or -1. Every node on the descent path is a prefix of its deepest node, so one match
   * length M against that node decides them all (as the Wasm walk).
   */
  lookup(key: number, len: number): number {
    const d = this.descend(key, len).x;
    if (d < 0) return -1;
    const m = this.matchLen(this.data(d), key, this.plen(d));
    let found = -1;
    this.descend(key, m, (x) => {
      if (x < this.n) found = x;
    });
    return found;
  }

  /** find: the element node holding exactly the prefix (`len` bits of `key`), its reference and its parent's; x -1 when absent. */
  find(key: number, len: number): { ref: number; parentRef: number; x: number } {
    const d = this.descend(key, len);
    if (d.x < 0 || d.x >= this.n || this.plen(d.x) !== len || this.matchLen(this.data(d.x), key, len) !== len) {
      return { ref: -1, parentRef: -1, x: -1 };
    }
    return d;
  }

  allocIm(plen: number, from: number): number {
    const v = this.get(this.hdr + H_LPM_IMFREE);
    const x = v - 1;
    this.set(this.hdr + H_LPM_IMFREE, this.get(this.childRef(x, 0)));
    this.set(this.rec(x) + LN_PLEN, plen);
    this.u8.copyWithin(this.data(x), from, from + this.ds);
    return x;
  }
  freeIm(x: number): void {
    this.set(this.childRef(x, 0), this.get(this.hdr + H_LPM_IMFREE));
    this.set(this.childRef(x, 1), 0);
    this.set(this.hdr + H_LPM_IMFREE, x + 1);
  }
  setChildren(x: number, c0: number, c1: number): void {
    this.set(this.childRef(x, 0), c0);
    this.set(this.childRef(x, 1), c1);
  }

  /** insert links element slot `i` (its key already stored, its prefix not in the trie). */
  insert(i: number): void {
    const len = this.plen(i), d = this.data(i);
    let ref = this.hdr + H_LPM_ROOT, v = 0, ml = 0;
    for (;;) {
      v = this.get(ref);
      if (v === 0) break;
      const x = v - 1, pl = this.plen(x);
      ml = this.matchLen(this.data(x), d, Math.min(pl, len));
      if (ml !== pl || pl === len) break;
      ref = this.childRef(x, this.bit(d, pl));
    }
    this.setChildren(i, 0, 0);
    if (v === 0) {
      this.set(ref, i + 1);
      return;
    }
    const x = v - 1;
    if (ml === len && this.plen(x) === len) {
      // an intermediate node at exactly this prefix: the element takes its place
      this.setChildren(i, this.get(this.childRef(x, 0)), this.get(this.childRef(x, 1)));
      this.set(ref, i + 1);
      this.freeIm(x);
    } else if (ml === len) {
      // the new prefix contains node x
      this.set(this.childRef(i, this.bit(this.data(x), len)), v);
      this.set(ref, i + 1);
    } else {
      // they part at bit ml: a new intermediate node branches there
      const im = this.allocIm(ml, d);
      const b = this.bit(d, ml);
      this.setChildren(im, b ? v : i + 1, b ? i + 1 : v);
      this.set(ref, im + 1);
    }
  }

  /** remove unlinks element node `x` found at `ref` (parent at parentRef, -1 for the root). */
  remove(x: number, ref: number, parentRef: number): void {
    const c0 = this.get(this.childRef(x, 0)), c1 = this.get(this.childRef(x, 1));
    if (c0 !== 0 && c1 !== 0) {
      // still a branching point: an intermediate node takes the element's place
      const im = this.allocIm(this.plen(x), this.data(x));
      this.setChildren(im, c0, c1);
      this.set(ref, im + 1);
      return;
    }
    const p = parentRef < 0 ? -1 : this.get(parentRef) - 1;
    if (p >= this.n && c0 === 0 && c1 === 0) {
      // an intermediate parent left with one child goes too: the other child moves up
      const other = this.get(this.childRef(p, 0)) === x + 1 ? this.get(this.childRef(p, 1)) : this.get(this.childRef(p, 0));
      this.set(parentRef, other);
      this.freeIm(p);
      return;
    }
    this.set(ref, c0 || c1);
  }
}

/** lpmLookupSlot returns the slot of the longest prefix matching the key at `keyAddr`, or -1. */
export function lpmLookupSlot(space: AddressSpace, hdr: number, keyAddr: number): number {
  const t = new Trie(space, hdr);
  const klen = space.dv.getUint32(keyAddr, true);
  if (klen > t.ds * 8) return -1; // Linux (6.x): a lookup key longer than the trie's prefixes finds nothing
  return t.lookup(keyAddr + 4, klen);
}

/** lpmValue is the value address of slot `i`. */
export function lpmValue(dv: DataView, hdr: number, i: number): number {
  return field(dv, hdr, H_VALUES) + i * field(dv, hdr, H_ESTRIDE);
}

/** lpmLookup returns the value address of the longest matching prefix, or 0. */
export function lpmLookup(space: AddressSpace, hdr: number, keyAddr: number): number {
  const i = lpmLookupSlot(space, hdr, keyAddr);
  return i < 0 ? 0 : lpmValue(space.dv, hdr, i);
}

function exact(space: AddressSpace, hdr: number, keyAddr: number): number {
  return new Trie(space, hdr).find(keyAddr + 4, space.dv.getUint32(keyAddr, true)).x;
}

/** lpmUpdate stores a value under a prefix: 0, -EINVAL, -EEXIST, -ENOENT, -ENOSPC (full). */
export function lpmUpdate(space: AddressSpace, hdr: number, keyAddr: number, valAddr: number, flags: number): number {
  if (flags >>> 0 > BPF_EXIST) return -EINVAL;
  const dv = space.dv, ks = field(dv, hdr, H_KEY_SIZE);
  const len = dv.getUint32(keyAddr, true);
  if (len > (ks - 4) * 8) return -EINVAL;
  lockMap(space, hdr);
  try {
    const t = new Trie(space, hdr);
    let i = t.find(keyAddr + 4, len).x;
    if (i >= 0 && flags === BPF_NOEXIST) return -EEXIST;
    if (i < 0 && flags === BPF_EXIST) return -ENOENT;
    const fresh = i < 0;
    if (fresh) {
      const e = field(dv, hdr, H_FREE);
      if (e === 0 || field(dv, hdr, H_COUNT) >= field(dv, hdr, H_MAX_ENTRIES)) return -ENOSPC;
      i = e - 1;
      dv.setUint32(hdr + H_FREE, dv.getUint32(field(dv, hdr, H_NEXT) + i * 4, true), true);
      dv.setUint32(field(dv, hdr, H_HASHES) + i * 4, 1, true);
      dv.setUint32(hdr + H_COUNT, field(dv, hdr, H_COUNT) + 1, true);
    }
    space.u8.copyWithin(keyAt(dv, hdr, i), keyAddr, keyAddr + ks);
    space.u8.copyWithin(lpmValue(dv, hdr, i), valAddr, valAddr + field(dv, hdr, H_VALUE_SIZE));
    if (fresh) {
      dv.setUint32(t.rec(i) + LN_PLEN, len, true);
      space.u8.copyWithin(t.data(i), keyAddr + 4, keyAddr + ks);
      t.insert(i);
    }
    return 0;
  } finally {
    unlockMap(space, hdr);
  }
}

/** lpmDelete removes an exact prefix: 0, -EINVAL (prefixlen too long), -ENOENT. */
export function lpmDelete(space: AddressSpace, hdr: number, keyAddr: number): number {
  const dv = space.dv;
  const len = dv.getUint32(keyAddr, true);
  if (len > (field(dv, hdr, H_KEY_SIZE) - 4) * 8) return -EINVAL;
  lockMap(space, hdr);
  try {
    const t = new Trie(space, hdr);
    const { ref, parentRef, x: i } = t.find(keyAddr + 4, len);
    if (i < 0) return -ENOENT;
    t.remove(i, ref, parentRef);
    dv.setUint32(field(dv, hdr, H_HASHES) + i * 4, 0, true);
    dv.setUint32(field(dv, hdr, H_NEXT) + i * 4, field(dv, hdr, H_FREE), true);
    dv.setUint32(hdr + H_FREE, i + 1, true);
    dv.setUint32(hdr + H_COUNT, field(dv, hdr, H_COUNT) - 1, true);
    return 0;
  } finally {
    unlockMap(space, hdr);
  }
}

/** postOrder compares two stored keys in the trie's post-order (-1: a first). */
function postOrder(u8: Uint8Array, dv: DataView, a: number, b: number): number {
  const la = dv.getUint32(a, true), lb = dv.getUint32(b, true);
  const lim = Math.min(la, lb);
  for (let bit = 0; bit < lim; bit++) {
    const x = (u8[a + 4 + (bit >> 3)] >> (7 - (bit & 7))) & 1, y = (u8[b + 4 + (bit >> 3)] >> (7 - (bit & 7))) & 1;
    if (x !== y) return x - y;
  }
  return lb - la; // the longer (more specific) prefix comes first
}

/** lpmGetNextKey writes the key after `keyAddr` in post-order (the first when 0, too long or absent). */
export function lpmGetNextKey(space: AddressSpace, hdr: number, keyAddr: number, out: number): number {
  const dv = space.dv, u8 = space.u8, ks = field(dv, hdr, H_KEY_SIZE);
  const slots: number[] = [];
  for (let i = 0, n = field(dv, hdr, H_MAX_ENTRIES); i < n; i++) if (used(dv, hdr, i)) slots.push(keyAt(dv, hdr, i));
  slots.sort((a, b) => postOrder(u8, dv, a, b));
  let at = 0;
  if (keyAddr !== 0 && dv.getUint32(keyAddr, true) <= (ks - 4) * 8) {
    const i = exact(space, hdr, keyAddr);
    if (i >= 0) at = slots.indexOf(keyAt(dv, hdr, i)) + 1;
  }
  if (at >= slots.length) return -ENOENT;
  u8.copyWithin(out, slots[at], slots[at] + ks);
  return 0;
}
