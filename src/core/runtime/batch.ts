/**
 * The batch commands (BPF_MAP_LOOKUP_BATCH, LOOKUP_AND_DELETE_BATCH, UPDATE_BATCH,
 * DELETE_BATCH). The lookup cursor is a key, as in the kernel's generic batch code: the next
 * batch starts after it (get_next_key), and null means "from the start" / "done".
 */
import { BpfError, isBpfError } from '../errors.js';
import { BPF_F_LOCK, isHashType } from '../maps/layout.js';
import { spinLockOff } from '../maps/spin-lock.js';
import * as cmd from './commands.js';
import type { Runtime } from './runtime.js';

/** BatchResult is one batch of keys and values and the cursor for the next one (null: done). */
export interface BatchResult {
  keys: Uint8Array[];
  values: Uint8Array[];
  cursor: Uint8Array | null;
}

function nextKey(rt: Runtime, fd: number, key: Uint8Array | null): Uint8Array | null {
  try {
    return cmd.mapGetNextKey(rt, fd, key);
  } catch (e) {
    if (isBpfError(e) && e.code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * mapLookupBatch returns up to `count` elements after `cursor` (null: from the first);
 * `elemFlags` 0 or BPF_F_LOCK (values copied under their bpf_spin_lock).
 */
export function mapLookupBatch(rt: Runtime, fd: number, cursor: Uint8Array | null, count: number, elemFlags = 0): BatchResult {
  if (elemFlags !== 0 && (elemFlags !== BPF_F_LOCK || spinLockOff(rt.space, rt.map(fd).hdr) < 0)) {
    throw new BpfError('EINVAL', 'BPF_MAP_LOOKUP_BATCH: elem_flags other than BPF_F_LOCK, or BPF_F_LOCK without a bpf_spin_lock');
  }
  if (!Number.isInteger(count) || count <= 0) throw new BpfError('EINVAL', 'BPF_MAP_LOOKUP_BATCH: count must be positive');
  const out: BatchResult = { keys: [], values: [], cursor: null };
  let k = nextKey(rt, fd, cursor);
  while (k && out.keys.length < count) {
    out.keys.push(k);
    out.values.push(cmd.mapLookupElem(rt, fd, k, elemFlags));
    k = nextKey(rt, fd, k);
  }
  out.cursor = k ? out.keys[out.keys.length - 1] : null;
  return out;
}

/** mapLookupAndDeleteBatch returns and removes up to `count` elements (hash maps). */
export function mapLookupAndDeleteBatch(rt: Runtime, fd: number, count: number): BatchResult {
  if (!isHashType(rt.map(fd).mapType)) throw new BpfError('EINVAL', 'BPF_MAP_LOOKUP_AND_DELETE_BATCH: not a hash map');
  const b = mapLookupBatch(rt, fd, null, count);
  for (const k of b.keys) cmd.mapDeleteElem(rt, fd, k);
  return b; // cursor non-null: elements remain (the next call starts from the first again)
}

/**
 * mapUpdateBatch stores values[i] under keys[i] in order and returns how many were stored;
 * the first failure throws, its message saying how many had been stored (as attr.batch.count).
 */
export function mapUpdateBatch(rt: Runtime, fd: number, keys: Uint8Array[], values: Uint8Array[], flags = 0): number {
  if (keys.length !== values.length) throw new BpfError('EINVAL', 'BPF_MAP_UPDATE_BATCH: keys and values differ in number');
  return each(keys, 'BPF_MAP_UPDATE_BATCH', (k, i) => cmd.mapUpdateElem(rt, fd, k, values[i], flags));
}

/** mapDeleteBatch deletes `keys` in order and returns how many were deleted (first failure throws). */
export function mapDeleteBatch(rt: Runtime, fd: number, keys: Uint8Array[]): number {
  return each(keys, 'BPF_MAP_DELETE_BATCH', (k) => cmd.mapDeleteElem(rt, fd, k));
}

function each(keys: Uint8Array[], name: string, fn: (k: Uint8Array, i: number) => void): number {
  for (let i = 0; i < keys.length; i++) {
    try {
      fn(keys[i], i);
    } catch (e) {
      if (isBpfError(e)) throw new BpfError(e.code, `${name}: ${e.detail} after ${i} elements`, e.context);
      throw e;
    }
  }
  return keys.length;
}
