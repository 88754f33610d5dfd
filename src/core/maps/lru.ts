/**
 * The LRU lists of LRU hash maps, in memory, following the kernel's bpf_lru_list algorithm
 * (kernel/bpf/bpf_lru_list.c) step for step so that, on one CPU, the same operation
 * sequence evicts the same keys as Linux:
 *
 * - common LRU (default): one global list set (active, inactive, free) plus, per CPU, a
 *   local free list and a local pending list. A CPU takes free nodes from its local free
 *   list; when empty it flushes its pending list into the global lists, rotates them and
 *   moves up to `target_free` free nodes (shrinking the inactive list, evicting unreferenced
 *   elements, when the global free list runs short) to its local free list; as a last
 *   resort it steals from the CPUs' local lists round-robin.
 * - per-CPU LRU (BPF_F_NO_COMMON_LRU): one list set per CPU, elements split evenly.
 *
 * Lookups from programs set an element's ref bit; rotation gives referenced elements
 * another round in the active list.
 *
 * Nodes are element indices 0..n-1 followed by the list-head sentinels; every list is a
 * circular doubly linked list threaded through the u32 `prev` / `next` arrays. An element's
 * meta word holds type (byte 0), ref (byte 1) and cpu (bytes 2..3); the Wasm map runtime
 * sets the ref byte on lookups.
 */
import type { AddressSpace } from '../vm/memory.js';
import { H_AUX, H_BUCKETS, H_COUNT, H_HASHES, H_NBUCKETS, H_NEXT } from './layout.js';

/** H_LRU is the header field holding the LRU block's address (LRU hash maps). */
export const H_LRU = H_AUX;

/** Node types (enum bpf_lru_list_type). */
export const T_ACTIVE = 0, T_INACTIVE = 1, T_FREE = 2, T_LOCAL_FREE = 3, T_LOCAL_PENDING = 4;

/** LRU block fields (u32; the Wasm map runtime reads them too). */
export const L_META = 0, L_PREV = 4, L_NEXT = 8, L_SETS = 12, L_LOCALS = 16, L_N = 20, L_NCPUS = 24, L_PERCPU = 28;
const L_TARGET = 32, L_SCANS = 36;
const L_SIZE = 64;
/** per list set: count active, count inactive, next_inactive_rotation; per CPU local: next_steal */
export const SET_SIZE = 16;
const LOCAL_SIZE = 16;

const LOCAL_FREE_TARGET = 128, PERCPU_FREE_TARGET = 4;

/** lruBlockSize is the size of the LRU block of a map of `n` elements on `ncpus` CPUs. */
export function lruBlockSize(n: number, ncpus: number, percpu: boolean): number {
  const nsets = percpu ? ncpus : 1, nlocal = percpu ? 0 : ncpus;
  const nodes = n + 3 * nsets + 2 * nlocal;
  return L_SIZE + n * 4 + nodes * 8 + nsets * SET_SIZE + nlocal * LOCAL_SIZE;
}

/** lruInit lays out and populates the LRU block at `at` (all elements free), as bpf_lru_populate. */
export function lruInit(space: AddressSpace, at: number, n: number, ncpus: number, percpu: boolean): void {
  const dv = space.dv;
  const nsets = percpu ? ncpus : 1, nlocal = percpu ? 0 : ncpus;
  const nodes = n + 3 * nsets + 2 * nlocal;
  const meta = at + L_SIZE, prev = meta + n * 4, next = prev + nodes * 4, sets = next + nodes * 4;
  const locals = sets + nsets * SET_SIZE;
  const put = (off: number, v: number): void => dv.setUint32(at + off, v, true);
  put(L_META, meta); put(L_PREV, prev); put(L_NEXT, next); put(L_SETS, sets); put(L_LOCALS, locals);
  put(L_N, n); put(L_NCPUS, ncpus); put(L_PERCPU, percpu ? 1 : 0);
  put(L_TARGET, Math.min(LOCAL_FREE_TARGET, Math.max(1, Math.floor(Math.floor(n / ncpus) / 2))));
  put(L_SCANS, percpu ? PERCPU_FREE_TARGET : LOCAL_FREE_TARGET);
  const l = new Lru(space, at);
  for (let s = n; s < nodes; s++) l.init(s);
  for (let s = 0; s < nsets; s++) dv.setUint32(sets + s * SET_SIZE + 8, l.head(s, T_INACTIVE), true);
  if (!percpu) {
    for (let i = 0; i < n; i++) {
      l.setMeta(i, T_FREE, 0, 0);
      l.add(i, l.head(0, T_FREE));
    }
    return;
  }
  // bpf_percpu_lru_populate: n / ncpus elements per CPU in order, the rest to the last CPU
  const per = Math.floor(n / ncpus);
  let i = 0;
  for (let cpu = 0; cpu < ncpus && i < n; cpu++) {
    do {
      l.setMeta(i, T_FREE, 0, cpu);
      l.add(i, l.head(cpu, T_FREE));
      i++;
    } while (i < n && (per === 0 || i % per !== 0));
  }
}

/** Lru is a view of one map's LRU block (stateless: all state is in memory). */
export class Lru {
  private readonly dv: DataView;
  readonly meta: number;
  private readonly prv: number;
  private readonly nxt: number;
  readonly n: number;
  readonly ncpus: number;
  readonly percpu: boolean;

  constructor(readonly space: AddressSpace, readonly at: number) {
    const dv = (this.dv = space.dv);
    this.meta = dv.getUint32(at + L_META, true);
    this.prv = dv.getUint32(at + L_PREV, true);
    this.nxt = dv.getUint32(at + L_NEXT, true);
    this.n = dv.getUint32(at + L_N, true);
    this.ncpus = dv.getUint32(at + L_NCPUS, true);
    this.percpu = dv.getUint32(at + L_PERCPU, true) === 1;
  }

  // ---- node fields and list primitives (list.h) -----------------------------------------

  next(x: number): number {
    return this.dv.getUint32(this.nxt + x * 4, true);
  }
  prev(x: number): number {
    return this.dv.getUint32(this.prv + x * 4, true);
  }
  private link(a: number, b: number): void {
    this.dv.setUint32(this.nxt + a * 4, b, true);
    this.dv.setUint32(this.prv + b * 4, a, true);
  }
  /** init makes `x` an empty list head. */
  init(x: number): void {
    this.link(x, x);
  }
  /** add inserts `x` right after `h` (list_add). */
  add(x: number, h: number): void {
    const n = this.next(h);
    this.link(x, n);
    this.link(h, x);
  }
  /** del unlinks `x` (list_del). */
  del(x: number): void {
    this.link(this.prev(x), this.next(x));
  }
  /** move moves `x` to right after `h` (list_move). */
  move(x: number, h: number): void {
    this.del(x);
    this.add(x, h);
  }
  type(i: number): number {
    return this.space.u8[this.meta + i * 4];
  }
  isRef(i: number): boolean {
    return this.space.u8[this.meta + i * 4 + 1] !== 0;
  }
  setRef(i: number, r: number): void {
    this.space.u8[this.meta + i * 4 + 1] = r;
  }
  cpu(i: number): number {
    return this.dv.getUint16(this.meta + i * 4 + 2, true);
  }
  setType(i: number, t: number): void {
    this.space.u8[this.meta + i * 4] = t;
  }
  setMeta(i: number, type: number, ref: number, cpu: number): void {
    this.setType(i, type);
    this.setRef(i, ref);
    this.dv.setUint16(this.meta + i * 4 + 2, cpu, true);
  }

  /** head is the sentinel of list `t` (T_ACTIVE/T_INACTIVE/T_FREE) of list set `s`. */
  head(s: number, t: number): number {
    return this.n + 3 * s + t;
  }
  private nsets(): number {
    return this.percpu ? this.ncpus : 1;
  }
  /** localHead is the sentinel of CPU `c`'s local free (T_LOCAL_FREE) or pending list. */
  localHead(c: number, t: number): number {
    return this.n + 3 * this.nsets() + 2 * c + (t - T_LOCAL_FREE);
  }
  private setField(s: number, off: number): number {
    return this.dv.getUint32(this.at + L_SETS, true) + s * SET_SIZE + off;
  }
  private count(s: number, t: number, d: number): void {
    if (t >= T_FREE) return;
    const a = this.setField(s, t * 4);
    this.dv.setUint32(a, this.dv.getUint32(a, true) + d, true);
  }
  private counts(s: number, t: number): number {
    return this.dv.getUint32(this.setField(s, t * 4), true);
  }
  private rot(s: number): number {
    return this.dv.getUint32(this.setField(s, 8), true);
  }
  private setRot(s: number, v: number): void {
    this.dv.setUint32(this.setField(s, 8), v, true);
  }
  private get targetFree(): number {
    return this.dv.getUint32(this.at + L_TARGET, true);
  }
  private get nrScans(): number {
    return this.dv.getUint32(this.at + L_SCANS, true);
  }
  private isHead(x: number): boolean {
    return x >= this.n;
  }

  // ---- list-set moves (__bpf_lru_node_move*) --------------------------------------------

  private moveToFree(s: number, i: number, freeHead: number, t: number): void {
    if (i === this.rot(s)) this.setRot(s, this.prev(i));
    this.count(s, this.type(i), -1);
    this.setType(i, t);
    this.move(i, freeHead);
  }

  private moveIn(s: number, i: number, t: number): void {
    this.count(s, t, 1);
    this.setType(i, t);
    this.setRef(i, 0);
    this.move(i, this.head(s, t));
  }

  private moveTo(s: number, i: number, t: number): void {
    if (this.type(i) !== t) {
      this.count(s, this.type(i), -1);
      this.count(s, t, 1);
      this.setType(i, t);
    }
    this.setRef(i, 0);
    if (i === this.rot(s)) this.setRot(s, this.prev(i));
    this.move(i, this.head(s, t));
  }

  private rotateActive(s: number): void {
    const active = this.head(s, T_ACTIVE);
    const first = this.next(active);
    let i = 0;
    for (let x = this.prev(active); x !== active;) {
      const p = this.prev(x);
      this.moveTo(s, x, this.isRef(x) ? T_ACTIVE : T_INACTIVE);
      if (++i === this.nrScans || x === first) break;
      x = p;
    }
  }

  private rotateInactive(s: number): void {
    const inactive = this.head(s, T_INACTIVE);
    if (this.next(inactive) === inactive) return;
    let last = this.next(this.rot(s));
    if (last === inactive) last = this.next(last);
    let cur = this.rot(s), nx = inactive, i = 0;
    while (i < this.nrScans) {
      if (cur === inactive) {
        cur = this.prev(cur);
        continue;
      }
      nx = this.prev(cur);
      if (this.isRef(cur)) this.moveTo(s, cur, T_ACTIVE);
      if (cur === last) break;
      cur = nx;
      i++;
    }
    this.setRot(s, nx);
  }

  private rotate(s: number): void {
    if (this.counts(s, T_INACTIVE) < this.counts(s, T_ACTIVE)) this.rotateActive(s);
    this.rotateInactive(s);
  }

  private shrinkInactive(s: number, want: number, freeHead: number, t: number, del: (i: number) => boolean): number {
    const inactive = this.head(s, T_INACTIVE);
    let done = 0, i = 0;
    for (let x = this.prev(inactive); x !== inactive;) {
      const p = this.prev(x);
      if (this.isRef(x)) this.moveTo(s, x, T_ACTIVE);
      else if (del(x)) {
        this.moveToFree(s, x, freeHead, t);
        if (++done === want) break;
      }
      if (++i === this.nrScans) break;
      x = p;
    }
    return done;
  }

  private shrink(s: number, want: number, freeHead: number, t: number, del: (i: number) => boolean): number {
    const got = this.shrinkInactive(s, want, freeHead, t, del);
    if (got) return got;
    const inactive = this.head(s, T_INACTIVE);
    const list = this.next(inactive) !== inactive ? inactive : this.head(s, T_ACTIVE);
    for (let x = this.prev(list); x !== list;) {
      const p = this.prev(x);
      if (del(x)) {
        this.moveToFree(s, x, freeHead, t);
        return 1;
      }
      x = p;
    }
    return 0;
  }

  // ---- pop / push (bpf_lru_pop_free, bpf_lru_push_free) ---------------------------------

  /** popFree returns a free element for CPU `cpu` (evicting through `del` if needed), or -1. */
  popFree(cpu: number, del: (i: number) => boolean): number {
    return this.percpu ? this.percpuPop(cpu, del) : this.commonPop(cpu, del);
  }

  private percpuPop(cpu: number, del: (i: number) => boolean): number {
    this.rotate(cpu);
    const free = this.head(cpu, T_FREE);
    if (this.next(free) === free) this.shrink(cpu, PERCPU_FREE_TARGET, free, T_FREE, del);
    const x = this.next(free);
    if (x === free) return -1;
    this.setRef(x, 0);
    this.moveTo(cpu, x, T_INACTIVE);
    return x;
  }

  private popLocalFree(c: number): number {
    const h = this.localHead(c, T_LOCAL_FREE);
    const x = this.next(h);
    if (x === h) return -1;
    this.del(x);
    return x;
  }

  private popLocalPending(c: number, del: (i: number) => boolean): number {
    const h = this.localHead(c, T_LOCAL_PENDING);
    for (const force of [false, true]) {
      for (let x = this.prev(h); x !== h; x = this.prev(x)) {
        if ((!this.isRef(x) || force) && del(x)) {
          this.del(x);
          return x;
        }
      }
    }
    return -1;
  }

  private flushLocal(c: number): void {
    const h = this.localHead(c, T_LOCAL_PENDING);
    for (let x = this.prev(h); x !== h;) {
      const p = this.prev(x);
      this.moveIn(0, x, this.isRef(x) ? T_ACTIVE : T_INACTIVE);
      x = p;
    }
  }

  private popFreeToLocal(c: number, del: (i: number) => boolean): void {
    this.flushLocal(c);
    this.rotate(0);
    const free = this.head(0, T_FREE), local = this.localHead(c, T_LOCAL_FREE);
    const target = this.targetFree;
    let nfree = 0;
    for (let x = this.next(free); x !== free && nfree < target;) {
      const nx = this.next(x);
      this.moveToFree(0, x, local, T_LOCAL_FREE);
      nfree++;
      x = nx;
    }
    if (nfree < target) this.shrink(0, target - nfree, local, T_LOCAL_FREE, del);
  }

  private addPending(c: number, x: number): void {
    this.setMeta(x, T_LOCAL_PENDING, 0, c);
    this.add(x, this.localHead(c, T_LOCAL_PENDING));
  }

  private stealField(c: number): number {
    return this.dv.getUint32(this.at + L_LOCALS, true) + c * LOCAL_SIZE;
  }

  private commonPop(cpu: number, del: (i: number) => boolean): number {
    let x = this.popLocalFree(cpu);
    if (x < 0) {
      this.popFreeToLocal(cpu, del);
      x = this.popLocalFree(cpu);
    }
    if (x >= 0) {
      this.addPending(cpu, x);
      return x;
    }
    const first = this.dv.getUint32(this.stealField(cpu), true);
    let steal = first;
    do {
      x = this.popLocalFree(steal);
      if (x < 0) x = this.popLocalPending(steal, del);
      steal = (steal + 1) % this.ncpus;
    } while (x < 0 && steal !== first);
    this.dv.setUint32(this.stealField(cpu), steal, true);
    if (x >= 0) this.addPending(cpu, x);
    return x;
  }

  /** pushFree returns element `i` (no longer in the hash table) to a free list. */
  pushFree(i: number): void {
    const t = this.type(i);
    if (this.percpu) {
      this.moveTo(this.cpu(i), i, T_FREE);
      return;
    }
    if (t === T_LOCAL_PENDING) {
      this.setType(i, T_LOCAL_FREE);
      this.setRef(i, 0);
      this.move(i, this.localHead(this.cpu(i), T_LOCAL_FREE));
      return;
    }
    if (t === T_FREE || t === T_LOCAL_FREE) return;
    this.moveTo(0, i, T_FREE);
  }

  /** sanity: every node reachable from the heads exactly once (tests). */
  listOf(head: number): number[] {
    const out: number[] = [];
    for (let x = this.next(head); x !== head && !this.isHead(x); x = this.next(x)) out.push(x);
    return out;
  }
}

/**
 * unlinkFromHash removes element index `i` from its hash chain (the kernel's
 * htab_lru_map_delete_node); false when it is not in the table.
 */
export function unlinkFromHash(space: AddressSpace, hdr: number, i: number): boolean {
  const dv = space.dv;
  const h = dv.getUint32(dv.getUint32(hdr + H_HASHES, true) + i * 4, true);
  const next = dv.getUint32(hdr + H_NEXT, true);
  let link = dv.getUint32(hdr + H_BUCKETS, true) + (h & (dv.getUint32(hdr + H_NBUCKETS, true) - 1)) * 4;
  for (let e = dv.getUint32(link, true); e !== 0; e = dv.getUint32(link, true)) {
    if (e === i + 1) {
      dv.setUint32(link, dv.getUint32(next + i * 4, true), true);
      dv.setUint32(hdr + H_COUNT, dv.getUint32(hdr + H_COUNT, true) - 1, true);
      return true;
    }
    link = next + (e - 1) * 4;
  }
  return false;
}
