/**
 * The per-map update lock: a spin lock on the header's lock word, taken only when the
 * address space is shared between workers (a single-threaded runtime needs none). The Wasm
 * map runtime takes the same lock with i32.atomic.rmw.cmpxchg.
 */
import type { AddressSpace } from '../vm/memory.js';
import { H_LOCK } from './layout.js';

const views = new WeakMap<ArrayBufferLike, Int32Array>();

function i32View(space: AddressSpace): Int32Array {
  const buf = space.memory.buffer;
  let v = views.get(buf);
  if (!v) {
    v = new Int32Array(buf);
    views.set(buf, v);
  }
  return v;
}

/** lockMap acquires the update lock of the map at `hdr` (no-op for unshared memory). */
export function lockMap(space: AddressSpace, hdr: number): void {
  if (!space.shared) return;
  const v = i32View(space), i = (hdr + H_LOCK) >> 2;
  while (Atomics.compareExchange(v, i, 0, 1) !== 0) {
    // short critical sections: spin (Atomics.wait is not allowed on a browser main thread)
  }
}

/** unlockMap releases the update lock of the map at `hdr`. */
export function unlockMap(space: AddressSpace, hdr: number): void {
  if (!space.shared) return;
  Atomics.store(i32View(space), (hdr + H_LOCK) >> 2, 0);
}
