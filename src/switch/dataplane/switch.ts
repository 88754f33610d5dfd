/**
 * Switch: N ports around one attached program. Drivers put frames on a port's RX ring
 * (`receive` copies bytes into a pool frame); `step` runs the program on a batch of every
 * port's RX ring and moves each frame to a TX ring (or the host ring, or back to the pool with
 * a counted drop reason); drivers drain TX rings (`transmit`). Everything a frame touches
 * lives in the address space so the WebAssembly dataplane can do the same work.
 */
import { BpfError } from '../../core/errors.js';
import { HelperRegistry } from '../../core/helpers/registry.js';
import { createVmContext } from '../../core/vm/context.js';
import type { Engine, LoadedProgram, VmContext } from '../../core/vm/engine.js';
import type { Program } from '../../core/isa/instruction.js';
import { AddressSpace } from '../../core/vm/memory.js';
import type { SwitchProgram } from '../program.js';
import { FrameContext } from './context.js';
import { registerSwitchHelpers } from './helpers.js';
import { registerAdjustHelpers } from './adjust.js';
import {
  CTR, DEFAULT_FRAME_SIZE, ETH_HLEN, MAX_IFINDEX, PROG_VALE, PROG_XDP, PUNT_SIZE, SW_CTX, SW_IFTABLE, SW_KIND,
  SW_NPORTS, SW_POOL, SW_PORTS, SW_PUNTS, SW_REDIRECT, SW_REDIRECT_FLAGS, SW_SIZE, SW_FLOOD, FLOOD_DEVMAP, FLOOD_MEMBERS, SW_EGRESS,
} from './layout.js';
import { devEntries, devGeneration } from '../../core/maps/devmap.js';
import type { Runtime } from '../../core/runtime/runtime.js';
import { registerRedirectMap } from '../../core/runtime/redirect.js';
import { FramePool } from './pool.js';
import { PORT_RECORD_SIZE, SwitchPort, type PortStats } from './port.js';
import { Views } from './views.js';

/** CaptureSink receives the frames a port receives (see Switch.captures). */
export interface CaptureSink {
  offer(buf: Uint8Array, off: number, len: number): boolean;
}
import { processBatchJs } from './js-loop.js';
import { WasmDataplane } from './wasm-loop.js';
import { floodTargets, type FloodTarget, type TraceEvent } from './dispatch.js';

/** PortSpec names a port and its ifindex (default: index + 1). */
export interface PortSpec {
  name?: string;
  ifindex?: number;
}

/** SwitchOptions configure a switch. */
export interface SwitchOptions {
  /** number of ports, or one spec per port */
  ports: number | PortSpec[];
  /** the engine programs run on (the JIT for speed, the interpreter as reference) */
  engine: Engine;
  /** checked memory accesses (default true; false once the verifier proved the program safe) */
  checked?: boolean;
  /** frames in the pool (default 1024 per port) */
  frames?: number;
  frameSize?: number;
  /** bytes bpf_xdp_adjust_tail may not grow into at the end of a buffer (default 0) */
  tailroom?: number;
  /** slots per ring (power of two, default 1024) */
  ringSize?: number;
  /** frames per batch (default 256) */
  batch?: number;
  /** instruction budget per frame (default 1e6): a looping program is a fault, not a hang */
  budget?: number;
  /** address space (default: a new one, shared when `shared`) */
  space?: AddressSpace;
  shared?: boolean;
  /** CPU index of the switch's execution context (a worker's index: per-CPU maps, JIT control block) */
  cpu?: number;
  /** helpers beyond the switch's own (bpf_redirect): maps and the rest come from the runtime */
  helpers?: HelperRegistry;
  /**
   * the runtime whose maps the program uses (an object loaded by switchObject): the switch
   * lives in its address space, uses its helpers, makes its map storage accessible and points
   * bpf_redirect_map at the switch's redirect words
   */
  runtime?: Runtime;
  /** called for every traced event (aborts, faults, bad verdicts) */
  onTrace?: (e: TraceEvent) => void;
  /**
   * dataplane: 'wasm' runs batches in generated WebAssembly that calls the JIT's code directly
   * (needs the JIT engine; the default with it), 'js' calls LoadedProgram.run per frame.
   */
  dataplane?: 'js' | 'wasm';
  /** called for every frame a program PASSes to the host (default: counted and freed) */
  onHost?: (port: number, frame: Uint8Array) => void;
}

/** TRACE_KEEP is how many recent trace events a switch remembers. */
export const TRACE_KEEP = 64;

/** Switch is a software switch running one eBPF program per frame. */
export class Switch {
  readonly space: AddressSpace;
  readonly ctx: VmContext;
  readonly views: Views;
  readonly pool: FramePool;
  readonly ports: SwitchPort[];
  /** state is the address of the switch state block */
  readonly state: number;
  readonly frame: FrameContext;
  readonly batch: number;
  readonly checked: boolean;
  readonly trace: TraceEvent[] = [];
  readonly tailroom: number;
  /** whether helpers may give the JIT their Wasm forms (not with the JS loop, which keeps Region objects) */
  wasmHelpers = true;
  /** the attached program and its kind (PROG_XDP / PROG_VALE); swapped only between batches */
  program: SwitchProgram | null = null;
  loaded: LoadedProgram | null = null;
  kind = PROG_XDP;
  /** the WebAssembly loop for the attached program (null: the JavaScript loop runs) */
  wasm: WasmDataplane | null = null;

  constructor(readonly opts: SwitchOptions) {
    const specs = typeof opts.ports === 'number' ? Array.from({ length: opts.ports }, () => ({})) : opts.ports;
    if (specs.length < 1 || specs.length > 253) throw new BpfError('EINVAL', `a switch has 1 to 253 ports, not ${specs.length}`);
    this.space = opts.runtime?.space ?? opts.space ?? new AddressSpace({ shared: opts.shared ?? false, initialBytes: 4 << 20 });
    const helpers = opts.runtime?.helpers ?? opts.helpers ?? new HelperRegistry();
    this.ctx = createVmContext({ space: this.space, helpers, cpu: opts.cpu ?? 0 });
    this.views = new Views(this.space);
    this.batch = opts.batch ?? 256;
    this.checked = opts.checked ?? true;
    this.state = this.space.alloc(SW_SIZE, 64);
    this.pool = new FramePool(this.space, opts.frames ?? 1024 * specs.length, opts.frameSize ?? DEFAULT_FRAME_SIZE, this.views);
    this.frame = new FrameContext(this.space, opts.budget ?? 1_000_000);
    this.ports = this.makePorts(specs, opts.ringSize ?? 1024);
    this.tailroom = opts.tailroom ?? 0;
    registerSwitchHelpers(helpers, this);
    registerAdjustHelpers(helpers, this);
    if (opts.runtime) {
      registerRedirectMap(opts.runtime, { target: this.state + SW_REDIRECT, flags: this.state + SW_REDIRECT_FLAGS, egress: this.state + SW_EGRESS },
        helpers);
    }
    this.writeState();
  }

  private makePorts(specs: PortSpec[], ringSize: number): SwitchPort[] {
    const table = this.space.alloc(PORT_RECORD_SIZE * specs.length, 64);
    const iftable = this.space.alloc(4 * MAX_IFINDEX, 64);
    this.space.dv.setUint32(this.state + SW_IFTABLE, iftable, true);
    this.space.dv.setUint32(this.state + SW_PORTS, table, true);
    return specs.map((s, i) => {
      const ifindex = s.ifindex ?? i + 1;
      if (!Number.isInteger(ifindex) || ifindex < 1 || ifindex >= MAX_IFINDEX) {
        throw new BpfError('EINVAL', `port ${i}: ifindex ${ifindex} is not in [1, ${MAX_IFINDEX})`);
      }
      if (this.space.dv.getUint32(iftable + 4 * ifindex, true) !== 0) throw new BpfError('EEXIST', `ifindex ${ifindex} is used twice`);
      this.space.dv.setUint32(iftable + 4 * ifindex, i + 1, true);
      return new SwitchPort(this.space, this.views, i, ifindex, table + i * PORT_RECORD_SIZE, s.name ?? `port${i}`, ringSize);
    });
  }

  private writeState(): void {
    const dv = this.space.dv;
    dv.setUint32(this.state + SW_NPORTS, this.ports.length, true);
    dv.setUint32(this.state + SW_CTX, this.frame.md, true);
    dv.setUint32(this.state + SW_POOL, this.pool.addr, true);
    dv.setUint32(this.state + SW_PUNTS, this.space.alloc(PUNT_SIZE * this.batch, 16), true);
    this.flood = this.space.alloc(FLOOD_MEMBERS + this.ports.length, 16);
    dv.setUint32(this.state + SW_FLOOD, this.flood, true);
  }

  /** flood is the address of the flood table (see layout.ts FLOOD_*). */
  flood = 0;
  /** the devmap change count the flood table was built from */
  private floodGen = 0;

  /**
   * describeFlood makes the flood table describe `devmap` (a header address): one byte per port,
   * 1 if its ifindex is in the devmap. The Wasm loop then floods broadcasts through that devmap
   * itself; the first broadcast through another devmap is punted and switches the table.
   */
  private describeFlood(devmap: number): void {
    this.floodGen = devGeneration(this.space, devmap);
    const entries = devEntries(this.space, devmap);
    const members = new Set(entries.map((e) => e.ifindex));
    const u8 = this.views.refresh().u8, t = this.flood;
    for (const p of this.ports) u8[t + FLOOD_MEMBERS + p.index] = members.has(p.ifindex) ? 1 : 0;
    // entries with egress programs: every broadcast through this devmap goes to JavaScript
    this.views.dv.setUint32(t + FLOOD_DEVMAP, entries.some((e) => e.prog !== 0) ? 0 : devmap, true);
  }

  private egressCache = new Map<number, LoadedProgram>();
  /** programs another thread's runtime loaded, by id (a worker's egress programs: MultiSwitch.sharePrograms) */
  readonly sharedPrograms = new Map<number, Program>();

  /**
   * egressProgram returns the devmap egress program with id `id`, loaded on the switch's
   * context (once), or null when neither the runtime nor `sharedPrograms` has it.
   */
  egressProgram(id: number): LoadedProgram | null {
    let p = this.egressCache.get(id);
    if (!p) {
      const insns = this.opts.runtime?.progs.id(id)?.insns ?? this.sharedPrograms.get(id);
      if (!insns) return null;
      p = this.opts.engine.load(insns, this.ctx, { checked: this.checked });
      this.egressCache.set(id, p);
    }
    return p;
  }

  /** attach loads `prog` and makes it the switch's program (replacing any other between batches). */
  attach(prog: SwitchProgram): void {
    const mode = this.opts.dataplane ?? (this.opts.engine.name === 'jit' ? 'wasm' : 'js');
    this.wasmHelpers = mode === 'wasm';
    if (this.opts.runtime) this.frame.setExtraRegions(this.opts.runtime.regions());
    const loaded = this.opts.engine.load(prog.insns, this.ctx, { checked: this.checked });
    this.program = prog;
    this.loaded = loaded;
    this.kind = prog.kind === 'vale' ? PROG_VALE : PROG_XDP;
    this.space.dv.setUint32(this.state + SW_KIND, this.kind, true);
    this.wasm = mode === 'wasm' ? new WasmDataplane(this) : null;
  }

  /** portByIfindex returns the port index with this ifindex, or -1. */
  portByIfindex(ifindex: number): number {
    if (!(ifindex > 0 && ifindex < MAX_IFINDEX)) return -1;
    const iftable = this.views.dv.getUint32(this.state + SW_IFTABLE, true);
    return this.views.refresh().u32[(iftable >>> 2) + ifindex] - 1;
  }

  /**
   * receive copies a frame into the pool and queues it on port `p`'s RX ring, as a driver
   * does. Runts, oversized frames, an empty pool or a full ring are counted drops (false).
   */
  receive(p: number, bytes: Uint8Array): boolean {
    const port = this.port(p);
    if (bytes.length < ETH_HLEN) return this.ingressDrop(port, CTR.drop_runt);
    if (bytes.length > this.pool.maxLen) return this.ingressDrop(port, CTR.drop_oversize);
    if (port.rx.free() === 0) return this.ingressDrop(port, CTR.drop_ring_full);
    const addr = this.pool.alloc();
    if (addr === 0) return this.ingressDrop(port, CTR.drop_no_frame);
    this.views.refresh().u8.set(bytes, addr);
    port.rx.push(addr, bytes.length);
    return true;
  }

  private ingressDrop(port: SwitchPort, c: number): false {
    this.views.refresh();
    port.count(c);
    return false;
  }

  /** port returns port `p` or throws. */
  port(p: number): SwitchPort {
    const port = this.ports[p];
    if (!port) throw new BpfError('EINVAL', `no port ${p} (the switch has ${this.ports.length})`);
    return port;
  }

  private floodCache = new Map<string, FloodTarget[]>();

  /**
   * floodPorts returns the ports a broadcast from `port` reaches (see floodTargets), cached for
   * one step: a devmap changed by the control plane is seen from the next step on.
   */
  floodPorts(port: SwitchPort, includeIngress: boolean, devmap: number): FloodTarget[] {
    const key = `${port.index}:${includeIngress ? 1 : 0}:${devmap}`;
    let outs = this.floodCache.get(key);
    if (!outs) {
      outs = floodTargets(this, port, includeIngress, devmap);
      this.floodCache.set(key, outs);
      if (devmap !== 0) this.describeFlood(devmap);
    }
    return outs;
  }

  /**
   * captures holds an optional capture sink per port index: every frame the port receives is
   * offered to it (in place, before the program runs) — e.g. a pcap-filter expression writing a
   * pcap file. Ports without one pay nothing.
   */
  readonly captures: (CaptureSink | undefined)[] = [];

  /** step runs one batch of every port's RX ring through the program; returns frames processed. */
  step(): number {
    if (!this.loaded) throw new BpfError('EINVAL', 'no program attached to the switch');
    if (this.floodCache.size) this.floodCache.clear();
    // a devmap changed by the control plane is seen from the next step on, in Wasm too
    const fl = this.views.u32[(this.flood + FLOOD_DEVMAP) >>> 2];
    if (fl !== 0 && devGeneration(this.space, fl) !== this.floodGen) this.describeFlood(fl);
    let n = 0;
    const wasm = this.wasm;
    for (const port of this.ports) {
      const cap = this.captures[port.index];
      if (cap) this.offerBatch(port, cap);
      n += wasm ? wasm.processBatch(port) : processBatchJs(this, port);
    }
    this.serviceHost();
    return n;
  }

  /** offerBatch shows the frames of the port's next batch to a capture sink. */
  private offerBatch(port: SwitchPort, cap: CaptureSink): void {
    const n = port.rx.peek(this.batch);
    const u8 = this.views.refresh().u8;
    for (let k = 0; k < n; k++) cap.offer(u8, port.rx.addrAt(k), port.rx.lenAt(k));
  }

  /** run steps until no port has frames waiting (or `maxSteps`); returns frames processed. */
  run(maxSteps = Infinity): number {
    let total = 0;
    for (let s = 0; s < maxSteps; s++) {
      const n = this.step();
      total += n;
      if (n === 0) break;
    }
    return total;
  }

  /** serviceHost hands PASSed frames to the host handler and frees them. */
  serviceHost(): void {
    for (const port of this.ports) {
      for (let d = port.host.shift(); d !== null; d = port.host.shift()) {
        this.views.refresh();
        port.count(CTR.host_packets);
        if (this.opts.onHost) this.opts.onHost(port.index, this.views.u8.slice(d.addr, d.addr + d.len));
        this.pool.free(d.addr);
      }
    }
  }

  /**
   * transmit drains up to `max` frames from port `p`'s TX ring, calling `fn` with a view of
   * each frame's bytes (valid only during the call), and frees them; returns the count.
   */
  transmit(p: number, fn: (frame: Uint8Array) => void, max = Infinity): number {
    const port = this.port(p);
    let n = 0;
    while (n < max) {
      const d = port.tx.shift();
      if (d === null) break;
      fn(this.views.refresh().u8.subarray(d.addr, d.addr + d.len));
      this.pool.free(d.addr);
      n++;
    }
    return n;
  }

  /**
   * probe runs the program once on a copy of `bytes` as if received on port `p`, without
   * dispatching: returns the verdict (r0 low 32 bits), the frame as the program left it and the
   * redirect target. Faults throw. For tests and for comparing with the kernel.
   */
  probe(p: number, bytes: Uint8Array): { r0: number; data: Uint8Array; meta: Uint8Array; redirect: number } {
    const port = this.port(p);
    if (!this.loaded) throw new BpfError('EINVAL', 'no program attached to the switch');
    if (bytes.length > this.pool.maxLen) throw new BpfError('E2BIG', `frame of ${bytes.length} bytes exceeds ${this.pool.maxLen}`);
    const addr = this.pool.alloc();
    if (addr === 0) throw new BpfError('ENOMEM', 'frame pool exhausted');
    try {
      const v = this.views.refresh();
      // like BPF_PROG_TEST_RUN: a zeroed buffer, so headroom bytes the program exposes are known
      const start = this.pool.frameStart(addr);
      v.u8.fill(0, start, start + this.pool.frameSize);
      v.u8.set(bytes, addr);
      this.frame.set(v.u32, this.kind, addr, bytes.length, port.index, port.ifindex);
      v.u32[(this.state + SW_REDIRECT) >>> 2] = 0;
      v.u32[(this.state + SW_EGRESS) >>> 2] = 0;
      const r0 = Number(this.loaded.run(this.frame.opts).r0 & 0xffffffffn);
      const u32 = this.views.refresh().u32;
      const data = this.frame.dataOf(u32), end = this.frame.endOf(u32, this.kind), meta = this.frame.metaOf(u32, this.kind);
      return { r0, data: this.views.u8.slice(data, Math.max(data, end)), meta: this.views.u8.slice(Math.min(meta, data), data),
        redirect: u32[(this.state + SW_REDIRECT) >>> 2] };
    } finally {
      this.pool.free(addr);
    }
  }

  /** traceEvent records an event (keeping the last TRACE_KEEP) and calls onTrace. */
  traceEvent(e: TraceEvent): void {
    this.trace.push(e);
    if (this.trace.length > TRACE_KEEP) this.trace.shift();
    this.opts.onTrace?.(e);
  }

  /** stats returns every port's counters. */
  stats(): Array<PortStats & { port: number; name: string; ifindex: number }> {
    return this.ports.map((p) => ({ port: p.index, name: p.name, ifindex: p.ifindex, ...p.stats() }));
  }
}
