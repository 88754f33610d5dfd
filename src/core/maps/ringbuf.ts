/**
 * BPF ring buffers (BPF_MAP_TYPE_RINGBUF) in memory, with the kernel's record format and
 * position rules (kernel/bpf/ringbuf.c): a data area of max_entries bytes (a power of two,
 * page aligned), 64-bit consumer / producer / pending positions that only grow, records of an
 * 8-byte header (u32 len with BUSY and DISCARD bits, u32 page offset) followed by the data,
 * 8-byte aligned. Reservation fails when the producer would get more than size - 1 bytes ahead
 * of the consumer or of the oldest record still busy.
 *
 * The kernel maps the data area twice back to back so a record wrapping past the end is
 * contiguous; here the data area is followed by a second area of the same size that takes
 * the part of a record running past the end (records are always contiguous in memory).
 *
 * Header fields: H_VALUES = data area; aux: consumer (u64), producer (u64), pending (u64),
 * waiting consumers (u32).
 * A record's second header word is its distance in 8-byte units from the map header, so
 * submit/discard find the map from the record pointer (as the kernel's pg_off does).
 */
import type { AddressSpace } from '../vm/memory.js';
import { H_AUX, H_MAX_ENTRIES, H_VALUES } from './layout.js';
import { lockMap, unlockMap } from './lock.js';

export const H_RB_CONS = H_AUX, H_RB_PROD = H_AUX + 8, H_RB_PEND = H_AUX + 16;
/** H_RB_WAITERS counts consumers waiting for wake-ups (the Wasm helpers call out only then). */
export const H_RB_WAITERS = H_AUX + 24;
/** Record header bits and size. */
export const BPF_RINGBUF_BUSY_BIT = 0x80000000, BPF_RINGBUF_DISCARD_BIT = 0x40000000, BPF_RINGBUF_HDR_SZ = 8;
/** Query flags (bpf_ringbuf_query). */
export const BPF_RB_AVAIL_DATA = 0, BPF_RB_RING_SIZE = 1, BPF_RB_CONS_POS = 2, BPF_RB_PROD_POS = 3;
/** Wakeup flags of submit/discard/output. */
export const BPF_RB_NO_WAKEUP = 1, BPF_RB_FORCE_WAKEUP = 2;
/** RINGBUF_MAX_RECORD_SZ bounds a record's size (as Linux). */
export const RINGBUF_MAX_RECORD_SZ = Math.floor(0xffffffff / 4);

function pos(dv: DataView, at: number): number {
  return Number(dv.getBigUint64(at, true));
}

function setPos(dv: DataView, at: number, v: number): void {
  dv.setBigUint64(at, BigInt(v), true);
}

/** ringbufPositions returns [consumer, producer] of the ring buffer at `hdr`. */
export function ringbufPositions(space: AddressSpace, hdr: number): [number, number] {
  const dv = space.dv;
  return [pos(dv, hdr + H_RB_CONS), pos(dv, hdr + H_RB_PROD)];
}

/** ringbufSetConsumer moves the consumer position (user space, after reading records). */
export function ringbufSetConsumer(space: AddressSpace, hdr: number, v: number): void {
  setPos(space.dv, hdr + H_RB_CONS, v);
}

/** ringbufReserve reserves a record of `size` bytes: the address of its data, or 0. */
export function ringbufReserve(space: AddressSpace, hdr: number, size: number): number {
  if (size > RINGBUF_MAX_RECORD_SZ) return 0;
  const dv = space.dv;
  const total = dv.getUint32(hdr + H_MAX_ENTRIES, true), mask = total - 1;
  const len = (size + BPF_RINGBUF_HDR_SZ + 7) & ~7;
  if (len > total) return 0;
  const data = dv.getUint32(hdr + H_VALUES, true);
  lockMap(space, hdr);
  try {
    const cons = pos(dv, hdr + H_RB_CONS), prod = pos(dv, hdr + H_RB_PROD);
    let pend = pos(dv, hdr + H_RB_PEND);
    while (pend < prod) {
      const l = dv.getUint32(data + (pend % total), true);
      if (l & BPF_RINGBUF_BUSY_BIT) break;
      pend += ((l & ~BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ + 7) & ~7;
    }
    setPos(dv, hdr + H_RB_PEND, pend);
    const next = prod + len;
    if (next - cons > mask || next - pend > mask) return 0;
    const rec = data + (prod % total);
    dv.setUint32(rec, (size | BPF_RINGBUF_BUSY_BIT) >>> 0, true);
    dv.setUint32(rec + 4, (rec - hdr) / 8, true);
    setPos(dv, hdr + H_RB_PROD, next);
    return rec + BPF_RINGBUF_HDR_SZ;
  } finally {
    unlockMap(space, hdr);
  }
}

/** ringbufRecordMap returns the map header a reserved record's data pointer belongs to (unchecked). */
export function ringbufRecordMap(space: AddressSpace, sample: number): number {
  return sample - BPF_RINGBUF_HDR_SZ - space.dv.getUint32(sample - 4, true) * 8;
}

/** ringbufCommit ends a reserved record: submitted, or discarded (the consumer skips it). */
export function ringbufCommit(space: AddressSpace, sample: number, discard: boolean): void {
  const dv = space.dv, at = sample - BPF_RINGBUF_HDR_SZ;
  let l = dv.getUint32(at, true) & ~BPF_RINGBUF_BUSY_BIT;
  if (discard) l |= BPF_RINGBUF_DISCARD_BIT;
  dv.setUint32(at, l >>> 0, true);
}

/** ringbufQuery is bpf_ringbuf_query. */
export function ringbufQuery(space: AddressSpace, hdr: number, flags: bigint): bigint {
  const dv = space.dv;
  const cons = pos(dv, hdr + H_RB_CONS), prod = pos(dv, hdr + H_RB_PROD);
  switch (flags) {
    case BigInt(BPF_RB_AVAIL_DATA): return BigInt(prod - cons);
    case BigInt(BPF_RB_RING_SIZE): return BigInt(dv.getUint32(hdr + H_MAX_ENTRIES, true));
    case BigInt(BPF_RB_CONS_POS): return BigInt(cons);
    case BigInt(BPF_RB_PROD_POS): return BigInt(prod);
    default: return 0n;
  }
}

/** RingRecord is one record seen by a consumer. */
export interface RingRecord {
  /** address of the data in the address space */
  addr: number;
  size: number;
  discarded: boolean;
}

/**
 * ringbufNext returns the record at the consumer position (null when none is ready: empty,
 * or the oldest record is still busy), without consuming it; `end` is the position after it.
 */
export function ringbufNext(space: AddressSpace, hdr: number): (RingRecord & { end: number }) | null {
  const dv = space.dv;
  const [cons, prod] = ringbufPositions(space, hdr);
  if (cons >= prod) return null;
  const total = dv.getUint32(hdr + H_MAX_ENTRIES, true), data = dv.getUint32(hdr + H_VALUES, true);
  const rec = data + (cons % total);
  const l = dv.getUint32(rec, true);
  if (l & BPF_RINGBUF_BUSY_BIT) return null;
  const size = l & ~BPF_RINGBUF_DISCARD_BIT;
  return { addr: rec + BPF_RINGBUF_HDR_SZ, size, discarded: (l & BPF_RINGBUF_DISCARD_BIT) !== 0, end: cons + ((size + BPF_RINGBUF_HDR_SZ + 7) & ~7) };
}
