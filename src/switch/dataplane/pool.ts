/**
 * FramePool: fixed-size frame buffers in the address space and a stack of free frames (also in
 * memory, so the WebAssembly dataplane can allocate and free without JavaScript). A frame's
 * data starts XDP_PACKET_HEADROOM bytes in, leaving room for bpf_xdp_adjust_head and
 * metadata; a descriptor's address anywhere inside the buffer names the frame.
 */
import { BpfError } from '../../core/errors.js';
import type { AddressSpace } from '../../core/vm/memory.js';
import { DEFAULT_FRAME_SIZE, POOL_BASE, POOL_COUNT, POOL_HDR, POOL_SHIFT, POOL_TOP, XDP_PACKET_HEADROOM } from './layout.js';
import { Views } from './views.js';

/** FramePool is a JavaScript handle on a pool in memory at `addr`. */
export class FramePool {
  readonly addr: number;
  readonly base: number;
  readonly count: number;
  readonly frameSize: number;
  readonly shift: number;
  private readonly v: Views;

  /** constructor allocates `count` frames of `frameSize` bytes (a power of two, >= 512). */
  constructor(readonly space: AddressSpace, count: number, frameSize = DEFAULT_FRAME_SIZE, views?: Views) {
    if (!Number.isInteger(frameSize) || frameSize < 512 || (frameSize & (frameSize - 1)) !== 0) {
      throw new BpfError('EINVAL', `frame size ${frameSize} is not a power of two >= 512`);
    }
    if (!Number.isInteger(count) || count < 1 || count > 1 << 22) throw new BpfError('EINVAL', `bad frame count ${count}`);
    this.count = count;
    this.frameSize = frameSize;
    this.shift = Math.log2(frameSize);
    this.addr = space.alloc(POOL_HDR + 4 * count, 64);
    this.base = space.alloc(count * frameSize, 4096);
    this.v = views ?? new Views(space);
    const dv = space.dv;
    dv.setUint32(this.addr + POOL_COUNT, count, true);
    dv.setUint32(this.addr + POOL_SHIFT, this.shift, true);
    dv.setUint32(this.addr + POOL_BASE, this.base, true);
    // Free stack holds every frame, lowest index on top so allocation order is predictable.
    for (let k = 0; k < count; k++) dv.setUint32(this.addr + POOL_HDR + 4 * k, count - 1 - k, true);
    dv.setUint32(this.addr + POOL_TOP, count, true);
  }

  /** maxLen is the longest frame a buffer holds after the headroom. */
  get maxLen(): number {
    return this.frameSize - XDP_PACKET_HEADROOM;
  }

  /** available is the number of free frames. */
  available(): number {
    return this.v.refresh().u32[(this.addr + POOL_TOP) >>> 2];
  }

  /** alloc takes a free frame and returns the address of its data start (after the headroom), or 0. */
  alloc(): number {
    const u32 = this.v.refresh().u32;
    const t = (this.addr + POOL_TOP) >>> 2;
    const top = u32[t];
    if (top === 0) return 0;
    u32[t] = top - 1;
    const idx = u32[((this.addr + POOL_HDR) >>> 2) + top - 1];
    return this.base + idx * this.frameSize + XDP_PACKET_HEADROOM;
  }

  /** free returns the frame containing `addr` to the pool. */
  free(addr: number): void {
    const idx = this.indexOf(addr);
    const u32 = this.v.refresh().u32;
    const t = (this.addr + POOL_TOP) >>> 2;
    const top = u32[t];
    if (top >= this.count) throw new BpfError('EINVAL', `frame pool double free (frame ${idx})`);
    u32[((this.addr + POOL_HDR) >>> 2) + top] = idx;
    u32[t] = top + 1;
  }

  /** indexOf is the index of the frame containing `addr`. */
  indexOf(addr: number): number {
    const idx = (addr - this.base) >>> this.shift;
    if (addr < this.base || idx >= this.count) throw new BpfError('EINVAL', `address 0x${addr.toString(16)} is not in the frame pool`);
    return idx;
  }

  /** frameStart is the buffer start of the frame containing `addr`. */
  frameStart(addr: number): number {
    return this.base + this.indexOf(addr) * this.frameSize;
  }

  /** contains tells whether [addr, addr+len) lies inside one frame buffer of this pool. */
  contains(addr: number, len: number): boolean {
    if (addr < this.base || len < 0) return false;
    const idx = (addr - this.base) >>> this.shift;
    if (idx >= this.count) return false;
    return addr + len <= this.base + (idx + 1) * this.frameSize;
  }
}
