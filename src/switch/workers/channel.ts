/**
 * Channels between threads of a multi-worker switch with real ports. Every thread owns its
 * frame pool (alloc and free are not thread-safe), so frames cross threads by copy through a
 * channel: a single-producer single-consumer ring whose slot i always points at buffer i of
 * the channel's own buffer area. The producer copies a frame of its pool into the buffer of
 * the next slot and frees its frame; the consumer copies the buffer into a frame of its pool
 * and releases the slot. `ChannelPump` does both directions in WebAssembly (one call per ring,
 * memory.copy per frame), so a worker's data path runs no JavaScript per frame.
 */
import { Code, ModuleBuilder } from '../../core/jit/wasm/encoder.js';
import { I32, Op } from '../../core/jit/wasm/ops.js';
import type { AddressSpace } from '../../core/vm/memory.js';
import { POOL_HDR, POOL_TOP, RING_HDR, RING_HEAD, RING_MASK, RING_TAIL, XDP_PACKET_HEADROOM } from '../dataplane/layout.js';
import type { FramePool } from '../dataplane/pool.js';
import { Ring } from '../dataplane/ring.js';
import { freeFrame, memoryCopy, publish, ringIndex } from '../dataplane/gen-wasm.js';

/** CHAN_BUF / CHAN_SHIFT: words of the ring header's read-only line holding the buffer area address and log2(buffer size). */
export const CHAN_BUF = RING_MASK + 4, CHAN_SHIFT = RING_MASK + 8;

/** createChannel allocates a channel of `slots` buffers of 2^shift bytes in `space`; returns its ring. */
export function createChannel(space: AddressSpace, slots: number, shift: number): Ring {
  const ring = Ring.create(space, slots);
  const bufs = space.alloc(slots << shift, 64);
  space.dv.setUint32(ring.addr + CHAN_BUF, bufs, true);
  space.dv.setUint32(ring.addr + CHAN_SHIFT, shift, true);
  return ring;
}

/** channelBuffer is the address of the buffer behind slot index `i` of channel `ring`. */
export function channelBuffer(ring: Ring, i: number, dv: DataView): number {
  return dv.getUint32(ring.addr + CHAN_BUF, true) + ((i & (ring.size - 1)) << dv.getUint32(ring.addr + CHAN_SHIFT, true));
}

type PutFn = (ring: number, chan: number) => number;
type GetFn = (chan: number, ring: number, max: number) => number;

/** ChannelPump moves frames between one thread's pool rings and channels, in WebAssembly. */
export class ChannelPump {
  private readonly putFn: PutFn;
  private readonly getFn: GetFn;

  constructor(space: AddressSpace, pool: FramePool) {
    const mb = new ModuleBuilder();
    mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: space.shared ? 65536 : undefined, shared: space.shared });
    const put = mb.declareFunc([I32, I32], [I32]);
    mb.defineFunc(put, putCode(space.shared, pool));
    mb.exportFunc('put', put);
    const get = mb.declareFunc([I32, I32, I32], [I32]);
    mb.defineFunc(get, getCode(space.shared, pool));
    mb.exportFunc('get', get);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.encode() as Uint8Array<ArrayBuffer>), { env: { memory: space.memory } });
    this.putFn = inst.exports.put as unknown as PutFn;
    this.getFn = inst.exports.get as unknown as GetFn;
  }

  /** put copies the frames of `ring` (this pool's frames) into `chan` while it has room, freeing them; returns the count. */
  put(ring: Ring, chan: Ring): number {
    return this.putFn(ring.addr, chan.addr);
  }

  /** get copies up to `max` frames of `chan` into frames of this pool queued on `ring` (while both have room); returns the count. */
  get(chan: Ring, ring: Ring, max = 0x7fffffff): number {
    return max <= 0 ? 0 : this.getFn(chan.addr, ring.addr, Math.min(max, 0x7fffffff));
  }
}

/** slotOf emits: local `slot` = ring + RING_HDR + ((index + k) & mask) * 8. */
function slotOf(c: Code, ring: number, index: number, k: number, mask: number, slot: number): void {
  c.get(index).get(k).op(Op.i32_add).get(mask).op(Op.i32_and).i32(3).op(Op.i32_shl).get(ring).op(Op.i32_add).set(slot);
}

/** minInto emits: local a = min(a, b) (unsigned). */
function minInto(c: Code, a: number, b: number): void {
  c.get(a).get(b).get(a).get(b).op(Op.i32_lt_u, Op.select).set(a);
}

/** putCode: (ring, chan) -> n. */
function putCode(shared: boolean, pool: FramePool): Code {
  const c = new Code(2);
  const ring = 0, chan = 1;
  const [head, mask, n, ctail, cmask, room, k, slot, cslot, dst, len, top, bufs, shift] = Array.from({ length: 14 }, () => c.local(I32));
  c.get(ring).mem(Op.i32_load, 2, RING_HEAD).set(head);
  c.get(ring).mem(Op.i32_load, 2, RING_MASK).set(mask);
  ringIndex(c, shared, ring, RING_TAIL).get(head).op(Op.i32_sub).set(n);
  c.get(chan).mem(Op.i32_load, 2, RING_TAIL).set(ctail);
  c.get(chan).mem(Op.i32_load, 2, RING_MASK).set(cmask);
  c.get(chan).mem(Op.i32_load, 2, CHAN_BUF).set(bufs);
  c.get(chan).mem(Op.i32_load, 2, CHAN_SHIFT).set(shift);
  c.get(cmask).i32(1).op(Op.i32_add).get(ctail);
  ringIndex(c, shared, chan, RING_HEAD).op(Op.i32_sub, Op.i32_sub).set(room);
  minInto(c, n, room);
  c.i32(0).mem(Op.i32_load, 2, pool.addr + POOL_TOP).set(top);
  c.block().loop();
  c.get(k).get(n).op(Op.i32_ge_u, Op.br_if).u32(1);
  slotOf(c, ring, head, k, mask, slot);
  slotOf(c, chan, ctail, k, cmask, cslot);
  c.get(slot).mem(Op.i32_load, 2, RING_HDR + 4).set(len);
  c.get(ctail).get(k).op(Op.i32_add).get(cmask).op(Op.i32_and).get(shift).op(Op.i32_shl).get(bufs).op(Op.i32_add).set(dst);
  c.get(dst).get(slot).mem(Op.i32_load, 2, RING_HDR).get(len);
  memoryCopy(c);
  c.get(cslot).get(dst).mem(Op.i32_store, 2, RING_HDR);
  c.get(cslot).get(len).mem(Op.i32_store, 2, RING_HDR + 4);
  freeFrame(c, pool, slot, top);
  c.get(k).i32(1).op(Op.i32_add).set(k);
  c.br(0).end().end();
  c.i32(0).get(top).mem(Op.i32_store, 2, pool.addr + POOL_TOP);
  c.get(chan).get(ctail).get(n).op(Op.i32_add);
  publish(c, shared, RING_TAIL);
  c.get(ring).get(head).get(n).op(Op.i32_add);
  publish(c, shared, RING_HEAD);
  return c.get(n);
}

/** getCode: (chan, ring, max) -> n. */
function getCode(shared: boolean, pool: FramePool): Code {
  const c = new Code(3);
  const chan = 0, ring = 1, max = 2;
  const [chead, cmask, n, tail, mask, room, top, k, slot, cslot, addr, len] = Array.from({ length: 12 }, () => c.local(I32));
  c.get(chan).mem(Op.i32_load, 2, RING_HEAD).set(chead);
  c.get(chan).mem(Op.i32_load, 2, RING_MASK).set(cmask);
  ringIndex(c, shared, chan, RING_TAIL).get(chead).op(Op.i32_sub).set(n);
  c.get(ring).mem(Op.i32_load, 2, RING_TAIL).set(tail);
  c.get(ring).mem(Op.i32_load, 2, RING_MASK).set(mask);
  c.get(mask).i32(1).op(Op.i32_add).get(tail);
  ringIndex(c, shared, ring, RING_HEAD).op(Op.i32_sub, Op.i32_sub).set(room);
  minInto(c, n, room);
  c.i32(0).mem(Op.i32_load, 2, pool.addr + POOL_TOP).set(top);
  minInto(c, n, top);
  minInto(c, n, max);
  c.block().loop();
  c.get(k).get(n).op(Op.i32_ge_u, Op.br_if).u32(1);
  slotOf(c, chan, chead, k, cmask, cslot);
  slotOf(c, ring, tail, k, mask, slot);
  c.get(top).i32(1).op(Op.i32_sub).set(top);
  c.get(top).i32(2).op(Op.i32_shl).mem(Op.i32_load, 2, pool.addr + POOL_HDR).i32(pool.shift).op(Op.i32_shl)
    .i32(pool.base + XDP_PACKET_HEADROOM).op(Op.i32_add).set(addr);
  c.get(cslot).mem(Op.i32_load, 2, RING_HDR + 4).set(len);
  c.get(addr).get(cslot).mem(Op.i32_load, 2, RING_HDR).get(len);
  memoryCopy(c);
  c.get(slot).get(addr).mem(Op.i32_store, 2, RING_HDR);
  c.get(slot).get(len).mem(Op.i32_store, 2, RING_HDR + 4);
  c.get(k).i32(1).op(Op.i32_add).set(k);
  c.br(0).end().end();
  c.i32(0).get(top).mem(Op.i32_store, 2, pool.addr + POOL_TOP);
  c.get(ring).get(tail).get(n).op(Op.i32_add);
  publish(c, shared, RING_TAIL);
  c.get(chan).get(chead).get(n).op(Op.i32_add);
  publish(c, shared, RING_HEAD);
  return c.get(n);
}
