/**
 * Views: typed-array views of an address space that stay valid when the memory grows (a grown
 * non-shared buffer detaches the old views). Hot loops call `refresh()` once per batch, not
 * per access.
 */
import type { AddressSpace } from '../../core/vm/memory.js';

/** Views caches u8/u32/dv views of an address space's memory. */
export class Views {
  u8!: Uint8Array;
  u32!: Uint32Array;
  dv!: DataView;
  private buf: ArrayBufferLike | null = null;

  constructor(readonly space: AddressSpace) {
    this.refresh();
  }

  /**
   * refresh re-creates the views if the memory has grown since the last call. Unshared: growth
   * detaches the old buffer (byteLength 0), a cheap test; the Memory.buffer getter is not
   * (it showed up at 2-5% of a switch profile), so only shared memories pay it.
   */
  refresh(): this {
    const old = this.buf;
    if (old !== null && !this.space.shared && old.byteLength !== 0) return this;
    const b = this.space.memory.buffer;
    if (b !== old) {
      this.buf = b;
      this.u8 = new Uint8Array(b);
      this.u32 = new Uint32Array(b);
      this.dv = new DataView(b);
    }
    return this;
  }
}
