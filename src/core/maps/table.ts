/**
 * The map table: a u32 array in the address space, indexed by map id, holding each map's
 * header address. A pointer a program passes as a map is valid only when its header's id
 * indexes a table entry equal to the pointer, so a forged header in writable memory (values,
 * stack, packet) is never taken for a map. The Wasm map runtime performs the same check.
 */
import type { AddressSpace } from '../vm/memory.js';
import { H_ID, HEADER_SIZE, RB_TABLE, RB_TABLE_LEN, RUNTIME_BLOCK_SIZE } from './layout.js';

/** MapTable owns the runtime block and the table it points to. */
export class MapTable {
  /** block is the runtime block's address (RB_* fields) */
  readonly block: number;
  private cap = 0;
  private len = 1; // id 0 is never a map
  /** attached: a view of another runtime's table (a worker's); it cannot add maps */
  readonly attached: boolean;

  /** With `block`, the table is a view of the existing runtime block at that address (shared memory). */
  constructor(readonly space: AddressSpace, block?: number) {
    this.attached = block !== undefined;
    if (block !== undefined) {
      this.block = block;
      this.len = space.dv.getUint32(block + RB_TABLE_LEN, true);
      return;
    }
    this.block = space.alloc(RUNTIME_BLOCK_SIZE, 16);
    this.grow(256);
  }

  private grow(cap: number): void {
    const old = this.space.dv.getUint32(this.block + RB_TABLE, true);
    const t = this.space.alloc(cap * 4, 16);
    // the allocation may have grown the memory: views taken before it are detached
    if (old) this.space.u8.copyWithin(t, old, old + this.len * 4);
    this.space.dv.setUint32(this.block + RB_TABLE, t, true);
    this.cap = cap;
  }

  /** nextId is the id the next added map gets. */
  get nextId(): number {
    return this.len;
  }

  /** add records the header of map `id` (which must be nextId). */
  add(id: number, hdr: number): void {
    if (this.attached) throw new Error('map table: maps are created by the runtime owning the memory');
    if (id !== this.len) throw new Error(`map table: id ${id} out of order`);
    if (this.len === this.cap) this.grow(this.cap * 2);
    const dv = this.space.dv;
    dv.setUint32(dv.getUint32(this.block + RB_TABLE, true) + id * 4, hdr, true);
    this.len++;
    dv.setUint32(this.block + RB_TABLE_LEN, this.len, true);
  }
}

/** isMapPointer tells whether `p` (a register value) is the header address of a live map. */
export function isMapPointer(space: AddressSpace, block: number, p: bigint): boolean {
  if (p >= 0x100000000n) return false;
  const a = Number(p);
  if (a === 0 || a + HEADER_SIZE > space.size) return false;
  const dv = space.dv;
  const id = dv.getUint32(a + H_ID, true);
  if (id === 0 || id >= dv.getUint32(block + RB_TABLE_LEN, true)) return false;
  return dv.getUint32(dv.getUint32(block + RB_TABLE, true) + id * 4, true) === a;
}
