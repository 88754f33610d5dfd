/**
 * Ring buffer helpers (bpf_ringbuf_output / reserve / submit / discard / query, JavaScript
 * implementations used by both engines) and the user-space consumer `RingBuffer`:
 * `consume(cb)` drains ready records (like ring_buffer__consume), `poll(ms)` waits for one,
 * and `for await (const rec of rb)` iterates records as they are submitted.
 */
import { BpfError } from '../errors.js';
import { BPF_MAP_TYPE_RINGBUF, EINVAL, H_MAX_ENTRIES, H_TYPE, H_VALUES } from '../maps/layout.js';
import {
  BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_HDR_SZ, H_RB_WAITERS, ringbufCommit, ringbufNext,
  ringbufQuery, ringbufRecordMap, ringbufReserve, ringbufSetConsumer,
} from '../maps/ringbuf.js';
import { ringbufWasmHelper } from '../maps/wasm-ringbuf.js';
import { isMapPointer } from '../maps/table.js';
import { helperPointer, mapPointer } from './helpers.js';
import type { Runtime } from './runtime.js';

const EAGAIN = 11;
const listeners = new WeakMap<Runtime, Set<(hdr: number) => void>>();

function notify(rt: Runtime, hdr: number): void {
  for (const l of listeners.get(rt) ?? []) l(hdr);
}

function ringOf(rt: Runtime, m: bigint): number {
  const hdr = mapPointer(rt, m);
  if (rt.space.dv.getUint32(hdr + H_TYPE, true) !== BPF_MAP_TYPE_RINGBUF) throw new BpfError('E_HELPER', 'map is not a ring buffer');
  return hdr;
}

/** sampleOf validates a pointer returned by bpf_ringbuf_reserve and still busy; returns it. */
function sampleOf(rt: Runtime, p: bigint): number {
  const bad = (): BpfError => new BpfError('E_HELPER', `0x${p.toString(16)} is not a reserved ring buffer record`);
  if (p >= 0x100000000n || p < 8n || Number(p) > rt.space.size) throw bad();
  const s = Number(p), dv = rt.space.dv;
  const hdr = ringbufRecordMap(rt.space, s);
  if (hdr <= 0 || !isMapPointer(rt.space, rt.table.block, BigInt(hdr)) || dv.getUint32(hdr + H_TYPE, true) !== BPF_MAP_TYPE_RINGBUF) throw bad();
  const data = dv.getUint32(hdr + H_VALUES, true), size = dv.getUint32(hdr + H_MAX_ENTRIES, true);
  if (s - BPF_RINGBUF_HDR_SZ < data || s >= data + size + BPF_RINGBUF_HDR_SZ) throw bad();
  if ((dv.getUint32(s - BPF_RINGBUF_HDR_SZ, true) & BPF_RINGBUF_BUSY_BIT) === 0) throw bad();
  return s;
}

function commit(rt: Runtime, p: bigint, flags: bigint, discard: boolean): bigint {
  const s = sampleOf(rt, p);
  const hdr = ringbufRecordMap(rt.space, s);
  ringbufCommit(rt.space, s, discard);
  if ((flags & BigInt(BPF_RB_NO_WAKEUP)) === 0n) notify(rt, hdr);
  return 0n;
}

/** registerRingbufHelpers adds the ring buffer helpers to the runtime. */
export function registerRingbufHelpers(rt: Runtime): void {
  const h = rt.helpers, space = rt.space;
  // the JIT imports the Wasm forms (maps/wasm-ringbuf.ts); they call out only to wake consumers
  const wasm = (name: Parameters<typeof ringbufWasmHelper>[1]) => ringbufWasmHelper(rt, name, (hdr) => notify(rt, hdr));
  h.register('ringbuf_reserve', (m, size, flags) => {
    const hdr = ringOf(rt, m);
    if (flags !== 0n || size >= 0x100000000n) return 0n;
    return BigInt(ringbufReserve(space, hdr, Number(size)));
  }, wasm('ringbuf_reserve'));
  h.register('ringbuf_submit', (p, flags) => commit(rt, p, flags, false), wasm('ringbuf_submit'));
  h.register('ringbuf_discard', (p, flags) => commit(rt, p, flags, true), wasm('ringbuf_discard'));
  h.register('ringbuf_output', (m, data, size, flags, _5, env) => {
    const hdr = ringOf(rt, m);
    if ((flags & ~BigInt(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) !== 0n) return BigInt.asUintN(64, BigInt(-EINVAL));
    const n = Number(size & 0xffffffffn);
    const src = helperPointer(env, data, n, false);
    const rec = ringbufReserve(space, hdr, n);
    if (rec === 0) return BigInt.asUintN(64, BigInt(-EAGAIN));
    space.u8.copyWithin(rec, src, src + n);
    ringbufCommit(space, rec, false);
    if ((flags & BigInt(BPF_RB_NO_WAKEUP)) === 0n) notify(rt, hdr);
    return 0n;
  }, wasm('ringbuf_output'));
  h.register('ringbuf_query', (m, flags) => ringbufQuery(space, ringOf(rt, m), flags), wasm('ringbuf_query'));
}

/** RingBuffer consumes the records of a ring buffer map from user space. */
export class RingBuffer implements AsyncIterable<Uint8Array> {
  private readonly hdr: number;
  private waiters: Array<() => void> = [];
  private readonly listener = (hdr: number): void => {
    if (hdr !== this.hdr) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  };
  private closed = false;

  constructor(readonly rt: Runtime, readonly fd: number) {
    const m = rt.map(fd);
    if (m.mapType !== BPF_MAP_TYPE_RINGBUF) throw new BpfError('EINVAL', `map ${fd} is not a ring buffer`);
    this.hdr = m.hdr;
    let set = listeners.get(rt);
    if (!set) listeners.set(rt, (set = new Set()));
    set.add(this.listener);
    this.waiters_(1);
  }

  /** waiters_ counts this consumer in the map's header, so the Wasm helpers know to wake it. */
  private waiters_(d: number): void {
    const dv = this.rt.space.dv;
    dv.setUint32(this.hdr + H_RB_WAITERS, dv.getUint32(this.hdr + H_RB_WAITERS, true) + d, true);
  }

  /** consume calls `cb` with a copy of every ready record (discarded ones skipped), returns how many. */
  consume(cb: (data: Uint8Array) => void): number {
    let n = 0;
    for (let r = ringbufNext(this.rt.space, this.hdr); r; r = ringbufNext(this.rt.space, this.hdr)) {
      const data = r.discarded ? null : this.rt.space.read(r.addr, r.size);
      ringbufSetConsumer(this.rt.space, this.hdr, r.end);
      if (data) {
        n++;
        cb(data);
      }
    }
    return n;
  }

  /** poll consumes ready records; when there are none it waits up to `ms` for a submit first. */
  async poll(cb: (data: Uint8Array) => void, ms = 100): Promise<number> {
    const n = this.consume(cb);
    if (n > 0 || this.closed) return n;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
    return this.consume(cb);
  }

  /** close stops async iteration and detaches the consumer. */
  close(): void {
    if (!this.closed) this.waiters_(-1);
    this.closed = true;
    listeners.get(this.rt)?.delete(this.listener);
    this.listener(this.hdr);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    while (!this.closed) {
      const got: Uint8Array[] = [];
      // memory shared with workers is not notified here: the timeout makes it a slow poll
      await this.poll((d) => got.push(d), 50);
      yield* got;
    }
  }
}
