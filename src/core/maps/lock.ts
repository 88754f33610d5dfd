/**
 * The per-map lock word (header H_LOCK), used only when the address space is shared between
 * workers (a single-threaded runtime needs none). It is a sequence lock:
 *
 * - writers (update, delete, LRU list changes) take it by setting bit 0 with an atomic OR
 *   (spinning while another writer holds it) and release it with an atomic ADD of 1, so the
 *   word is even when free and grows by 2 with every completed write;
 * - lock-free readers (lookups) read the word (waiting while it is odd), search and copy, and
 *   retry when the word changed meanwhile: a lookup never returns an element that a
 *   concurrent delete freed or an insert was still filling, and a user-space lookup never
 *   copies a value a concurrent update was writing (a torn value).
 *
 * Freed elements are reused at once (as Linux's preallocated hash maps do): a program holding
 * a value pointer across a concurrent delete of that key may see the element reused, exactly
 * as in the kernel. The Wasm map runtime takes and reads the same word with the threads
 * proposal's atomics (wasm-util.ts).
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
  while ((Atomics.or(v, i, 1) & 1) !== 0) {
    // short critical sections: spin (Atomics.wait is not allowed on a browser main thread)
  }
}

/** unlockMap releases the update lock of the map at `hdr` (the sequence moves on by 2). */
export function unlockMap(space: AddressSpace, hdr: number): void {
  if (!space.shared) return;
  Atomics.add(i32View(space), (hdr + H_LOCK) >> 2, 1);
}

/** readBegin starts a lock-free read of the map at `hdr`: the sequence to pass to readRetry (0 unshared). */
export function readBegin(space: AddressSpace, hdr: number): number {
  if (!space.shared) return 0;
  const v = i32View(space), i = (hdr + H_LOCK) >> 2;
  let s: number;
  while (((s = Atomics.load(v, i)) & 1) !== 0) {
    // a writer is in the middle of a change
  }
  return s;
}

/** readRetry tells whether a write happened since readBegin returned `seq` (always false unshared). */
export function readRetry(space: AddressSpace, hdr: number, seq: number): boolean {
  return space.shared && Atomics.load(i32View(space), (hdr + H_LOCK) >> 2) !== seq;
}
