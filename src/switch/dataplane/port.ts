/**
 * SwitchPort: one port of the switch as the dataplane sees it: an RX ring (frames a driver
 * delivers into the switch), a TX ring (frames the switch sends out of the port, a driver
 * drains it), a host ring (frames an XDP program PASSed, for the host handler) and u64
 * counters, all in the address space and described by a port record the Wasm loop reads.
 */
import type { AddressSpace } from '../../core/vm/memory.js';
import { COUNTERS, COUNTERS_SIZE, CTR, type CounterName, PORT_COUNTERS, PORT_HOST, PORT_IFINDEX, PORT_RX, PORT_SIZE, PORT_TX } from './layout.js';
import { Ring } from './ring.js';
import type { Views } from './views.js';

/** PortStats is a snapshot of one port's counters. */
export type PortStats = Record<CounterName, number>;

/** SwitchPort is a JavaScript handle on one port. */
export class SwitchPort {
  readonly rx: Ring;
  readonly tx: Ring;
  readonly host: Ring;
  /** counters is the address of this port's u64 counters */
  readonly counters: number;

  constructor(readonly space: AddressSpace, private readonly v: Views, readonly index: number,
    readonly ifindex: number, readonly record: number, readonly name: string, ringSize: number) {
    this.rx = Ring.create(space, ringSize, v);
    this.tx = Ring.create(space, ringSize, v);
    this.host = Ring.create(space, ringSize, v);
    this.counters = space.alloc(COUNTERS_SIZE, 64);
    const dv = space.dv;
    dv.setUint32(record + PORT_RX, this.rx.addr, true);
    dv.setUint32(record + PORT_TX, this.tx.addr, true);
    dv.setUint32(record + PORT_HOST, this.host.addr, true);
    dv.setUint32(record + PORT_IFINDEX, ifindex, true);
    dv.setUint32(record + PORT_COUNTERS, this.counters, true);
  }

  /** count adds `n` (< 2^32) to counter `c` (an index from CTR) without BigInt. */
  count(c: number, n = 1): void {
    const u32 = this.v.u32;
    const i = (this.counters + c * 8) >>> 2;
    const lo = (u32[i] + n) >>> 0;
    u32[i] = lo;
    if (lo < n) u32[i + 1] = (u32[i + 1] + 1) >>> 0;
  }

  /** get reads one counter. */
  get(name: CounterName): number {
    const u32 = this.v.refresh().u32;
    const i = (this.counters + CTR[name] * 8) >>> 2;
    return u32[i] + u32[i + 1] * 2 ** 32;
  }

  /** stats reads every counter. */
  stats(): PortStats {
    return Object.fromEntries(COUNTERS.map((n) => [n, this.get(n)])) as PortStats;
  }
}

/** PORT_RECORD_SIZE re-exports the port record size for table allocation. */
export const PORT_RECORD_SIZE = PORT_SIZE;
