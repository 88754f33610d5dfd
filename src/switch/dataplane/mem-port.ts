/**
 * In-memory port drivers for generators and benchmarks, working a batch at a time on the
 * rings and the pool in memory: `TemplateSource` fills a port's RX ring with copies of frame
 * templates stored in the address space; `countingSink` empties a TX ring, counting frames
 * and bytes and returning the buffers to the pool. No per-frame allocation or closure.
 */
import type { AddressSpace } from '../../core/vm/memory.js';
import { POOL_HDR, POOL_TOP, RING_HDR, RING_HEAD, RING_TAIL, XDP_PACKET_HEADROOM } from './layout.js';
import type { FramePool } from './pool.js';
import type { Ring } from './ring.js';
import type { Views } from './views.js';

/** TemplateSource cycles through frame templates copied once into the address space. */
export class TemplateSource {
  private readonly addrs: number[];
  private readonly lens: number[];
  private next = 0;

  constructor(space: AddressSpace, templates: Uint8Array[]) {
    this.addrs = templates.map((t) => {
      const a = space.alloc(t.length, 64);
      space.write(a, t);
      return a;
    });
    this.lens = templates.map((t) => t.length);
  }

  /** fill queues up to `max` template copies on `ring` (bounded by free slots and frames); returns the count. */
  fill(v: Views, pool: FramePool, ring: Ring, max = Infinity): number {
    const { u8, u32 } = v.refresh();
    const top = (pool.addr + POOL_TOP) >>> 2, stack = (pool.addr + POOL_HDR) >>> 2;
    const tail = ring.tail;
    const n = Math.min(max, ring.free(), u32[top]);
    const mask = ring.size - 1, slots = (ring.addr + RING_HDR) >>> 2;
    let free = u32[top];
    for (let k = 0; k < n; k++) {
      const idx = u32[stack + --free];
      const addr = pool.base + idx * pool.frameSize + XDP_PACKET_HEADROOM;
      const t = this.next, src = this.addrs[t], len = this.lens[t];
      this.next = t + 1 === this.addrs.length ? 0 : t + 1;
      u8.copyWithin(addr, src, src + len);
      const s = slots + ((tail + k) & mask) * 2;
      u32[s] = addr;
      u32[s + 1] = len;
    }
    u32[top] = free;
    ring.store(RING_TAIL, (tail + n) >>> 0);
    return n;
  }
}

/** SinkCount accumulates what a sink took. */
export interface SinkCount {
  frames: number;
  bytes: number;
}

/** countingSink empties `ring`, adding its frames and bytes to `acc` and freeing the buffers. */
export function countingSink(v: Views, pool: FramePool, ring: Ring, acc: SinkCount): number {
  const u32 = v.refresh().u32;
  const head = ring.head, n = ring.count();
  const top = (pool.addr + POOL_TOP) >>> 2, stack = (pool.addr + POOL_HDR) >>> 2;
  const mask = ring.size - 1, slots = (ring.addr + RING_HDR) >>> 2;
  let free = u32[top], bytes = 0;
  for (let k = 0; k < n; k++) {
    const s = slots + ((head + k) & mask) * 2;
    bytes += u32[s + 1];
    u32[stack + free++] = (u32[s] - pool.base) >>> pool.shift;
  }
  u32[top] = free;
  ring.store(RING_HEAD, (head + n) >>> 0);
  acc.frames += n;
  acc.bytes += bytes;
  return n;
}
