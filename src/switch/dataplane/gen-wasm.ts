/**
 * Frame generation and sinking in WebAssembly, for pktgen and the in-memory ports: `fill`
 * takes free frames from the pool, copies the next templates into them with memory.copy and
 * publishes the descriptors on an RX ring; `sink` returns every frame of a TX ring to the pool
 * and adds frames and bytes to two u64 counters. One JavaScript call per batch, no per-frame
 * JavaScript (netmap's pkt-gen fills its buffers once; the switch's programs may rewrite
 * frames, so templates are copied, but by the engine's own memmove).
 */
import { Code, ModuleBuilder } from '../../core/jit/wasm/encoder.js';
import { Atomic, I32, I64, Op } from '../../core/jit/wasm/ops.js';
import type { AddressSpace } from '../../core/vm/memory.js';
import { POOL_HDR, POOL_TOP, RING_HDR, RING_HEAD, RING_MASK, RING_TAIL, XDP_PACKET_HEADROOM } from './layout.js';
import type { FramePool } from './pool.js';
import type { Ring } from './ring.js';
import type { SinkCount } from './mem-port.js';

type Fill = (ring: number, max: number) => number;
type Sink = (ring: number) => number;

/** WasmFrameSource generates template copies into rings and sinks rings, in WebAssembly. */
export class WasmFrameSource {
  private readonly fillFn: Fill;
  private readonly sinkFn: Sink;
  /** acc is the address of the sink's counters: frames (u64), bytes (u64) */
  readonly acc: number;

  /** constructor copies `templates` into `space` (none: a sink only) and builds the module for `pool`. */
  constructor(readonly space: AddressSpace, readonly pool: FramePool, templates: Uint8Array[]) {
    const table = space.alloc(8 * Math.max(1, templates.length) + 8, 8);
    const dv = space.dv;
    templates.forEach((t, i) => {
      const a = space.alloc(t.length, 64);
      space.write(a, t);
      dv.setUint32(table + 8 + 8 * i, a, true);
      dv.setUint32(table + 12 + 8 * i, t.length, true);
    });
    this.acc = space.alloc(16, 8);
    const mb = new ModuleBuilder();
    mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: space.shared ? 65536 : undefined, shared: space.shared });
    const fill = mb.declareFunc([I32, I32], [I32]);
    mb.defineFunc(fill, fillCode(space.shared, pool, table, templates.length));
    mb.exportFunc('fill', fill);
    const sink = mb.declareFunc([I32], [I32]);
    mb.defineFunc(sink, sinkCode(space.shared, pool, this.acc));
    mb.exportFunc('sink', sink);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.encode() as Uint8Array<ArrayBuffer>), { env: { memory: space.memory } });
    this.fillFn = inst.exports.fill as unknown as Fill;
    this.sinkFn = inst.exports.sink as unknown as Sink;
  }

  /** fill queues up to `max` template copies on `ring` (bounded by free slots and frames); returns the count. */
  fill(ring: Ring, max = 0x7fffffff): number {
    return this.fillFn(ring.addr, Math.min(max, 0x7fffffff));
  }

  /** sink empties `ring` into the pool; returns the count (totals in `count()`). */
  sink(ring: Ring): number {
    return this.sinkFn(ring.addr);
  }

  /** count reads the sink's totals. */
  count(): SinkCount {
    const dv = this.space.dv;
    return { frames: Number(dv.getBigUint64(this.acc, true)), bytes: Number(dv.getBigUint64(this.acc + 8, true)) };
  }
}

/** ringIndex loads a ring's head or tail word (atomically in shared memory: another thread may own it). */
export function ringIndex(c: Code, shared: boolean, ring: number, off: number): Code {
  c.get(ring);
  return shared ? c.atomic(Atomic.i32_load, 2, off) : c.mem(Op.i32_load, 2, off);
}

/** publish stores a ring index word (address and value on the stack), atomically in shared memory. */
export function publish(c: Code, shared: boolean, off: number): void {
  if (shared) c.atomic(Atomic.i32_store, 2, off);
  else c.mem(Op.i32_store, 2, off);
}

/** memoryCopy emits memory.copy (dst, src, len on the stack; bulk-memory 0xfc 10, memory 0 to 0). */
export function memoryCopy(c: Code): void {
  c.byte(0xfc);
  c.u32(10);
  c.byte(0);
  c.byte(0);
}

/** fillCode: (ring, max) -> n. Template table at `table`: +0 next index, then {addr, len} entries from +8. */
/**
 * freeFrame emits "give the frame of ring slot `slot` back to the pool": its index is pushed on
 * the pool's free stack at local `top`, which is incremented (the caller stores it back).
 */
export function freeFrame(c: Code, pool: FramePool, slot: number, top: number): void {
  c.get(top).i32(2).op(Op.i32_shl);
  c.get(slot).mem(Op.i32_load, 2, RING_HDR).i32(pool.base).op(Op.i32_sub).i32(pool.shift).op(Op.i32_shr_u);
  c.mem(Op.i32_store, 2, pool.addr + POOL_HDR);
  c.get(top).i32(1).op(Op.i32_add).set(top);
}

function fillCode(shared: boolean, pool: FramePool, table: number, ntmpl: number): Code {
  const c = new Code(2);
  const ring = 0, max = 1;
  const [top, tail, mask, n, k, t, addr, slot, e] = Array.from({ length: 9 }, () => c.local(I32));
  if (ntmpl === 0) return c.i32(0);
  c.i32(0).mem(Op.i32_load, 2, pool.addr + POOL_TOP).set(top);
  ringIndex(c, shared, ring, RING_TAIL).set(tail);
  c.get(ring).mem(Op.i32_load, 2, RING_MASK).set(mask);
  // n = min(max, free slots, free frames)
  c.get(mask).i32(1).op(Op.i32_add).get(tail);
  ringIndex(c, shared, ring, RING_HEAD).op(Op.i32_sub, Op.i32_sub).set(n);
  c.get(n).get(max).get(n).get(max).op(Op.i32_lt_u, Op.select).set(n);
  c.get(n).get(top).get(n).get(top).op(Op.i32_lt_u, Op.select).set(n);
  c.i32(0).mem(Op.i32_load, 2, table).set(t);
  c.block().loop();
  c.get(k).get(n).op(Op.i32_ge_u, Op.br_if).u32(1);
  c.get(top).i32(1).op(Op.i32_sub).set(top);
  c.get(top).i32(2).op(Op.i32_shl).mem(Op.i32_load, 2, pool.addr + POOL_HDR).i32(pool.shift).op(Op.i32_shl)
    .i32(pool.base + XDP_PACKET_HEADROOM).op(Op.i32_add).set(addr);
  c.get(t).i32(3).op(Op.i32_shl).i32(table + 8).op(Op.i32_add).set(e);
  c.get(addr).get(e).mem(Op.i32_load, 2, 0).get(e).mem(Op.i32_load, 2, 4);
  memoryCopy(c);
  c.get(tail).get(k).op(Op.i32_add).get(mask).op(Op.i32_and).i32(3).op(Op.i32_shl).get(ring).op(Op.i32_add).set(slot);
  c.get(slot).get(addr).mem(Op.i32_store, 2, RING_HDR);
  c.get(slot).get(e).mem(Op.i32_load, 2, 4).mem(Op.i32_store, 2, RING_HDR + 4);
  c.get(t).i32(1).op(Op.i32_add).tee(t).i32(ntmpl).op(Op.i32_eq).if().i32(0).set(t).end();
  c.get(k).i32(1).op(Op.i32_add).set(k);
  c.br(0).end().end();
  c.i32(0).get(top).mem(Op.i32_store, 2, pool.addr + POOL_TOP);
  c.i32(0).get(t).mem(Op.i32_store, 2, table);
  c.get(ring).get(tail).get(n).op(Op.i32_add);
  publish(c, shared, RING_TAIL);
  return c.get(n);
}

/** sinkCode: (ring) -> n; frees every frame on the ring, counting frames and bytes at `acc`. */
function sinkCode(shared: boolean, pool: FramePool, acc: number): Code {
  const c = new Code(1);
  const ring = 0;
  const [head, mask, n, k, top, slot] = Array.from({ length: 6 }, () => c.local(I32));
  const bytes = c.local(I64);
  c.get(ring).mem(Op.i32_load, 2, RING_HEAD).set(head);
  c.get(ring).mem(Op.i32_load, 2, RING_MASK).set(mask);
  ringIndex(c, shared, ring, RING_TAIL).get(head).op(Op.i32_sub).set(n);
  c.i32(0).mem(Op.i32_load, 2, pool.addr + POOL_TOP).set(top);
  c.block().loop();
  c.get(k).get(n).op(Op.i32_ge_u, Op.br_if).u32(1);
  c.get(head).get(k).op(Op.i32_add).get(mask).op(Op.i32_and).i32(3).op(Op.i32_shl).get(ring).op(Op.i32_add).set(slot);
  c.get(bytes).get(slot).mem(Op.i32_load, 2, RING_HDR + 4).op(Op.i64_extend_i32_u, Op.i64_add).set(bytes);
  freeFrame(c, pool, slot, top);
  c.get(k).i32(1).op(Op.i32_add).set(k);
  c.br(0).end().end();
  c.i32(0).get(top).mem(Op.i32_store, 2, pool.addr + POOL_TOP);
  c.get(ring).get(head).get(n).op(Op.i32_add);
  publish(c, shared, RING_HEAD);
  c.i32(0).i32(0).mem(Op.i64_load, 3, acc).get(n).op(Op.i64_extend_i32_u, Op.i64_add).mem(Op.i64_store, 3, acc);
  c.i32(0).i32(0).mem(Op.i64_load, 3, acc + 8).get(bytes).op(Op.i64_add).mem(Op.i64_store, 3, acc + 8);
  return c.get(n);
}
