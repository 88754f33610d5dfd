/**
 * bpf_spin_lock inside map values: where the lock is (the header's H_SPIN word, found in the
 * value type's BTF at creation), taking and releasing it, and the BPF_F_LOCK copies of
 * user-space lookups and updates (the value copied under the lock, the lock word itself
 * neither copied nor overwritten), as kernel/bpf/helpers.c and copy_map_value_locked do.
 *
 * The lock word is 0 when free and the holder's id when held: a program's CPU + 1, or
 * USER_OWNER for a user-space copy. A program taking a lock its own CPU holds is a
 * deadlock the kernel's verifier would have refused: it faults instead of spinning forever.
 * With shared memory (workers) the word changes with atomics (compare-exchange to take it);
 * unshared, a lock some other holder left taken can never be released, which also faults.
 */
import type { Btf, BtfType } from '../btf/index.js';
import type { AddressSpace } from '../vm/memory.js';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, E2BIG, EINVAL, H_SPIN } from './layout.js';

/** EOPNOTSUPP: a map type that cannot hold a bpf_spin_lock. */
const EOPNOTSUPP = 95;
/** USER_OWNER marks a lock held by a user-space BPF_F_LOCK copy. */
export const USER_OWNER = 0x80000000;
/** Fault messages, identical in the JavaScript and the Wasm helpers. */
export const SPIN_MSG = {
  align: 'bpf_spin_lock: the lock is not 4-byte aligned',
  deadlock: 'bpf_spin_lock: the lock is already held (this CPU, or a holder that can never release it)',
  unlock: 'bpf_spin_unlock: the lock is not held by this CPU',
} as const;

/** spinLockOff returns the offset of the bpf_spin_lock in the values of the map at `hdr`, or -1. */
export function spinLockOff(space: AddressSpace, hdr: number): number {
  return space.dv.getUint32(hdr + H_SPIN, true) - 1;
}

/** setSpinLockOff records the lock offset (-1: none) in the header at `hdr`. */
export function setSpinLockOff(space: AddressSpace, hdr: number, off: number): void {
  space.dv.setUint32(hdr + H_SPIN, off + 1, true);
}

function resolve(btf: Btf, id: number): BtfType | undefined {
  for (let n = 0; n < 32; n++) {
    const t = btf.types[id];
    if (!t) return undefined;
    if (t.kind !== 'typedef' && t.kind !== 'const' && t.kind !== 'volatile' && t.kind !== 'restrict' && t.kind !== 'type_tag') return t;
    id = t.type;
  }
  return undefined;
}

/** locksIn lists the byte offsets of every struct bpf_spin_lock in type `id` (nested structs included). */
function locksIn(btf: Btf, id: number, base: number, out: number[], depth = 0): void {
  const t = resolve(btf, id);
  if (!t || (t.kind !== 'struct' && t.kind !== 'union') || depth > 16) return;
  for (const m of t.members) {
    const mt = resolve(btf, m.type);
    const off = base + m.bitOffset / 8;
    if (mt?.kind === 'struct' && mt.name === 'bpf_spin_lock') out.push(off);
    else locksIn(btf, m.type, off, out, depth + 1);
  }
}

/**
 * btfSpinLock finds the bpf_spin_lock of a map's value type (BTF type `valueTypeId`, which
 * must be valueSize bytes): its offset, -1 when there is none, or -errno (EINVAL: the type
 * does not fit or the lock is misaligned; E2BIG: more than one lock — Linux refuses both
 * already at BPF_BTF_LOAD; EOPNOTSUPP: the map type cannot hold one — Linux allows it in
 * hash and array maps here).
 */
export function btfSpinLock(btf: Btf, valueTypeId: number, valueSize: number, mapType: number): number {
  const t = resolve(btf, valueTypeId);
  if (!t || !('size' in t) || t.size !== valueSize) return -EINVAL;
  const locks: number[] = [];
  locksIn(btf, valueTypeId, 0, locks);
  if (locks.length === 0) return -1;
  if (locks.length > 1) return -E2BIG;
  if (locks[0] % 4 !== 0 || locks[0] + 4 > valueSize) return -EINVAL;
  if (mapType !== BPF_MAP_TYPE_HASH && mapType !== BPF_MAP_TYPE_ARRAY) return -EOPNOTSUPP;
  return locks[0];
}

const views = new WeakMap<ArrayBufferLike, Int32Array>();

function i32(space: AddressSpace): Int32Array {
  const buf = space.memory.buffer;
  let v = views.get(buf);
  if (!v) views.set(buf, (v = new Int32Array(buf)));
  return v;
}

/** USER_SPINS bounds a user-space copy's wait for a lock (a program that faulted holding it never releases it). */
const USER_SPINS = 1 << 24;

/** held[space][cpu] is the lock (address + 1) a program on that CPU took through the JavaScript helper and holds. */
const held = new WeakMap<AddressSpace, number[]>();

function noteHeld(space: AddressSpace, owner: number, addr: number, take: boolean): void {
  if (owner === USER_OWNER) return;
  let h = held.get(space);
  if (!h) held.set(space, (h = []));
  if (take) h[owner - 1] = addr + 1;
  else if (h[owner - 1] === addr + 1) h[owner - 1] = 0;
}

/**
 * spinHeldJs returns the lock (address) a program on `cpu` took with the JavaScript
 * bpf_spin_lock and has not released, or -1; `forget` clears the record.
 */
export function spinHeldJs(space: AddressSpace, cpu: number, forget = false): number {
  const h = held.get(space);
  const a = (h?.[cpu] ?? 0) - 1;
  if (forget && h) h[cpu] = 0;
  return a;
}

/**
 * spinTake takes the lock at `addr` (4-aligned) for `owner`; false when that can never
 * happen (a deadlock), or, for user space, after USER_SPINS attempts (the copy then goes on
 * without the lock rather than hang the thread).
 */
export function spinTake(space: AddressSpace, addr: number, owner: number): boolean {
  if (!space.shared) {
    if (space.dv.getUint32(addr, true) !== 0) return false;
    space.dv.setUint32(addr, owner, true);
    noteHeld(space, owner, addr, true);
    return true;
  }
  const v = i32(space), i = addr >> 2;
  for (let n = 0; ; n++) {
    const old = Atomics.compareExchange(v, i, 0, owner | 0) >>> 0;
    if (old === 0) {
      noteHeld(space, owner, addr, true);
      return true;
    }
    if (old === owner && owner !== USER_OWNER) return false;
    if (owner === USER_OWNER && n >= USER_SPINS) return false;
  }
}

/** spinRelease releases the lock at `addr` held by `owner`; false when `owner` does not hold it. */
export function spinRelease(space: AddressSpace, addr: number, owner: number): boolean {
  if (!space.shared) {
    if (space.dv.getUint32(addr, true) !== owner) return false;
    space.dv.setUint32(addr, 0, true);
    noteHeld(space, owner, addr, false);
    return true;
  }
  const ok = Atomics.compareExchange(i32(space), addr >> 2, owner | 0, 0) >>> 0 === owner;
  if (ok) noteHeld(space, owner, addr, false);
  return ok;
}

/** SPIN_EXIT_MSG is the fault of a checked run that ended holding a bpf_spin_lock. */
export const SPIN_EXIT_MSG = 'bpf_spin_lock: the program exited holding a lock (bpf_spin_unlock is missing); the lock was released';

/**
 * releaseAtExit releases the lock a program on `cpu` left held (`addr`, from the JavaScript
 * record or the Wasm map runtime's) if this CPU still holds it; true when it did.
 */
export function releaseAtExit(space: AddressSpace, cpu: number, addr: number): boolean {
  if (addr < 0 || (addr & 3) !== 0 || addr + 4 > space.size) return false;
  return spinRelease(space, addr, cpu + 1);
}

/**
 * copyAroundLock copies a value of `size` bytes from `src` to `dst` (addresses) except the lock
 * word at `lockOff` (-1: plain copy); with `lockAt` >= 0 the copy happens while the lock at
 * that address is held by user space (BPF_F_LOCK).
 */
export function copyAroundLock(space: AddressSpace, dst: number, src: number, size: number, lockOff: number, lockAt = -1): void {
  const u8 = space.u8;
  if (lockOff < 0) {
    u8.copyWithin(dst, src, src + size);
    return;
  }
  const held = lockAt >= 0 && spinTake(space, lockAt, USER_OWNER);
  u8.copyWithin(dst, src, src + lockOff);
  u8.copyWithin(dst + lockOff + 4, src + lockOff + 4, src + size);
  if (held) spinRelease(space, lockAt, USER_OWNER);
}
