/**
 * Ring: a single-producer single-consumer ring of frame descriptors {addr, len} in the address
 * space, like a netmap or AF_XDP ring. Indices run free (u32) and wrap; the slot is
 * index & mask. The batch API works on windows: a consumer `peek`s up to n descriptors, reads
 * them by position, then `release`s them; a producer `reserve`s slots, fills them, `commit`s.
 * In shared memory the producer and consumer may be different threads: indices are published
 * with Atomics so descriptor writes are visible before the index that covers them.
 */
import { BpfError } from '../../core/errors.js';
import type { AddressSpace } from '../../core/vm/memory.js';
import { RING_HDR, RING_HEAD, RING_MASK, RING_TAIL, SLOT_SIZE } from './layout.js';
import { Views } from './views.js';

/** Ring is a JavaScript handle on a ring that lives in memory at `addr`. */
export class Ring {
  readonly size: number;
  readonly slots: number;
  private readonly v: Views;
  private readonly atomic: boolean;
  /** hdr: a view covering the ring (a shared memory's old buffers stay valid; an unshared one's detach) */
  private hdr: Uint32Array;

  private constructor(readonly space: AddressSpace, readonly addr: number, views?: Views) {
    this.v = views ?? new Views(space);
    this.size = this.v.refresh().u32[(addr + RING_MASK) >>> 2] + 1;
    this.slots = addr + RING_HDR;
    this.atomic = space.shared;
    this.hdr = this.v.u32;
  }

  /** words returns a view covering the ring, refreshed only after an unshared memory grew. */
  private words(): Uint32Array {
    const u = this.hdr;
    return u.byteLength !== 0 ? u : (this.hdr = this.v.refresh().u32);
  }

  /** create allocates a ring of `size` slots (a power of two) in `space`. */
  static create(space: AddressSpace, size: number, views?: Views): Ring {
    if (!Number.isInteger(size) || size < 2 || size > 1 << 20 || (size & (size - 1)) !== 0) {
      throw new BpfError('EINVAL', `ring size ${size} is not a power of two in [2, 2^20]`);
    }
    const addr = space.alloc(RING_HDR + size * SLOT_SIZE, 64);
    space.dv.setUint32(addr + RING_MASK, size - 1, true);
    return new Ring(space, addr, views);
  }

  /** attach wraps an existing ring (e.g. one created by another thread in shared memory). */
  static attach(space: AddressSpace, addr: number, views?: Views): Ring {
    return new Ring(space, addr, views);
  }

  private load(off: number): number {
    const u32 = this.words();
    const i = (this.addr + off) >>> 2;
    return this.atomic ? Atomics.load(u32, i) >>> 0 : u32[i];
  }

  /** store publishes a header word (Atomics in shared memory). */
  store(off: number, val: number): void {
    const u32 = this.words();
    const i = (this.addr + off) >>> 2;
    if (this.atomic) Atomics.store(u32, i, val);
    else u32[i] = val;
  }

  /** head is the consumer index. */
  get head(): number {
    return this.load(RING_HEAD);
  }

  /** tail is the producer index. */
  get tail(): number {
    return this.load(RING_TAIL);
  }

  /** count is the number of descriptors waiting to be consumed. */
  count(): number {
    return (this.tail - this.head) >>> 0;
  }

  /** space is the number of free slots. */
  free(): number {
    return this.size - this.count();
  }

  /** slotAddr is the address of the slot `k` positions after index `from`. */
  slotAddr(from: number, k: number): number {
    return this.slots + (((from + k) & (this.size - 1)) * SLOT_SIZE);
  }

  /** peek returns how many descriptors (at most `max`) the consumer may read from `head`. */
  peek(max: number): number {
    return Math.min(max, this.count());
  }

  /** addrAt / lenAt read the descriptor `k` positions after the head. */
  addrAt(k: number): number {
    return this.v.u32[this.slotAddr(this.head, k) >>> 2];
  }

  lenAt(k: number): number {
    return this.v.u32[(this.slotAddr(this.head, k) + 4) >>> 2];
  }

  /** release frees the first `n` descriptors after the head (the consumer is done with them). */
  release(n: number): void {
    this.store(RING_HEAD, (this.head + n) >>> 0);
  }

  /** push appends one descriptor; false when the ring is full. */
  push(addr: number, len: number): boolean {
    const tail = this.tail;
    if (((tail - this.head) >>> 0) >= this.size) return false;
    const s = this.slotAddr(tail, 0) >>> 2;
    const u32 = this.words();
    u32[s] = addr;
    u32[s + 1] = len;
    this.store(RING_TAIL, (tail + 1) >>> 0);
    return true;
  }

  /**
   * moveTo moves up to `max` descriptors from this ring to the end of `dst` (a loopback port:
   * frames leaving become frames arriving) with a few block copies, not a call per frame.
   * Returns the number moved. Both rings must be in the same address space.
   */
  moveTo(dst: Ring, max = Infinity): number {
    const n = Math.min(max, this.count(), dst.free());
    if (n <= 0) return 0;
    const u32 = this.v.refresh().u32;
    const sh = this.head, dt = dst.tail;
    let done = 0;
    while (done < n) {
      const si = (sh + done) & (this.size - 1), di = (dt + done) & (dst.size - 1);
      const run = Math.min(n - done, this.size - si, dst.size - di);
      const from = (this.slots >>> 2) + si * 2;
      u32.copyWithin((dst.slots >>> 2) + di * 2, from, from + run * 2);
      done += run;
    }
    dst.store(RING_TAIL, (dt + n) >>> 0);
    this.release(n);
    return n;
  }

  /** shift removes and returns the first descriptor, or null when empty. */
  shift(): { addr: number; len: number } | null {
    if (this.count() === 0) return null;
    const d = { addr: this.addrAt(0), len: this.lenAt(0) };
    this.release(1);
    return d;
  }
}
