/**
 * Generating the WebAssembly dataplane: one function `batch(port, start, n)` that walks RX
 * descriptors [start, n) of a port, fills the program context, calls the JIT-compiled program
 * (imported straight from the program's instance, so the call never leaves WebAssembly),
 * and moves each frame: drop (back to the pool), TX / redirect / VALE unicast (onto the output
 * TX ring), PASS (onto the host ring). Anything else (broadcast, aborts, bad verdicts, missing
 * ports, full rings, frames moved out of their buffer) is "punted": recorded for the
 * JavaScript dispatcher, which handles it after the batch with the same code as the JS loop.
 * Addresses of the switch's structures are baked in as constants.
 */
import { Code, ModuleBuilder } from '../../core/jit/wasm/encoder.js';
import { Atomic, F64, I32, I64, Op } from '../../core/jit/wasm/ops.js';
import { CONTROL_BLOCK } from '../../core/jit/embed.js';
import { PERM_R, PERM_RW, PERM_W } from '../../core/vm/memory.js';
import {
  CTR, MAX_IFINDEX, POOL_HDR, POOL_TOP, PORT_COUNTERS, PORT_HOST, PORT_IFINDEX, PORT_RX, PORT_SIZE, PORT_TX, PROG_VALE,
  PUNT_ADDR, PUNT_DATA, PUNT_END, PUNT_FLAGS, PUNT_R0, PUNT_SIZE, PUNT_TARGET, SW_REDIRECT_FLAGS, RING_HDR, RING_HEAD, RING_MASK, RING_TAIL,
  SW_CURSOR, SW_NPUNT, SW_REDIRECT, VALE_BPF_DROP, VALE_MD_DATA_END, VALE_MD_INGRESS_PORT, VALE_MD_RING_NR,
  BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS, SW_EGRESS, PUNT_EGRESS, FLOOD_DEVMAP, FLOOD_MEMBERS, VALE_BPF_BROADCAST, XDP_PACKET_HEADROOM,
} from './layout.js';
import { memoryCopy } from './gen-wasm.js';

/** DataplaneLayout is every address and mode the generated code bakes in. */
export interface DataplaneLayout {
  shared: boolean;
  kind: number;
  nports: number;
  state: number;
  md: number;
  pool: number;
  poolBase: number;
  frameShift: number;
  iftable: number;
  ports: number;
  punts: number;
  /** flood table (FLOOD_*): broadcasts through its devmap, and VALE-BPF broadcasts, are flooded in Wasm */
  flood: number;
  /** JIT control block (packet for LD_ABS, region table and fast-path regions for checked mode) */
  cb: number;
  /** checked mode: move the packet region (table entry 1 and the fast-path slots) to each frame */
  checked: boolean;
  /** instruction budget per frame (passed to the JIT's entry) */
  budget: number;
  /** the program has LD_ABS / LD_IND instructions: the control block's packet is set per frame */
  ldAbs: boolean;
}

const { fast: CB_FAST, pktLen: CB_PKT_LEN, pktStart: CB_PKT_START, regions: CB_REGIONS, regionEntry: REGION_ENTRY } = CONTROL_BLOCK;

/** buildDataplane returns the module bytes; imports env.memory and env.prog (the JIT's `entry` export). */
export function buildDataplane(L: DataplaneLayout): Uint8Array {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: L.shared ? 65536 : undefined, shared: L.shared });
  // the JIT's entry(budget): r1..r5 from the control block, r0 written back there
  const prog = mb.importFunc('env', 'prog', [F64], []);
  const fn = mb.declareFunc([I32, I32, I32], [I32]);
  mb.exportFunc('batch', fn);
  mb.defineFunc(fn, new Gen(L, prog).body());
  return mb.encode();
}

/** F64_CONST is the f64.const opcode (the encoder has no helper for it). */
const F64_CONST = 0x44;

/** f64const emits f64.const v (8 little-endian bytes). */
function f64const(c: Code, v: number): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  c.byte(F64_CONST);
  c.bytes(b);
}

/** Gen emits the batch function. */
class Gen {
  readonly c = new Code(3);
  // params
  readonly port = 0; readonly start = 1; readonly n = 2;
  // locals
  readonly rec: number; readonly rx: number; readonly head: number; readonly mask: number; readonly k: number;
  readonly slot: number; readonly addr: number; readonly len: number; readonly v: number; readonly data: number;
  readonly end: number; readonly fstart: number; readonly q: number; readonly ring: number; readonly tail: number;
  readonly ctr: number; readonly act: number; readonly t: number; readonly ifindex: number;
  // flooding: port cursor, last target, frame being sent, broadcast flags
  readonly fp: number; readonly flast: number; readonly fdesc: number; readonly fflags: number;

  constructor(readonly L: DataplaneLayout, readonly prog: number) {
    const c = this.c;
    const l = () => c.local(I32);
    this.rec = l(); this.rx = l(); this.head = l(); this.mask = l(); this.k = l(); this.slot = l(); this.addr = l();
    this.len = l(); this.v = l(); this.data = l(); this.end = l(); this.fstart = l(); this.q = l(); this.ring = l();
    this.tail = l(); this.ctr = l(); this.act = l(); this.t = l(); this.ifindex = l();
    this.fp = l(); this.flast = l(); this.fdesc = l(); this.fflags = l();
  }

  /** ld / st: 32-bit access at a constant address plus the local `base` (or at the constant alone). */
  private ld(base: number | null, off: number): Code {
    if (base === null) this.c.i32(0);
    else this.c.get(base);
    return this.c.mem(Op.i32_load, 2, off);
  }

  /** ringIndex loads a ring's head or tail (atomically in shared memory: another thread owns it). */
  private ringIndex(ring: number, off: number): void {
    this.c.get(ring);
    if (this.L.shared) this.c.atomic(Atomic.i32_load, 2, off);
    else this.c.mem(Op.i32_load, 2, off);
  }

  private count(ctrLocal: number, idx: number, value: () => void): void {
    const c = this.c;
    c.get(ctrLocal).get(ctrLocal).mem(Op.i64_load, 3, idx * 8);
    value();
    c.op(Op.i64_add).mem(Op.i64_store, 3, idx * 8);
  }

  private inc(ctrLocal: number, idx: number): void {
    this.count(ctrLocal, idx, () => this.c.i64(1));
  }

  body(): Code {
    const { c, L } = this;
    c.i32(L.ports).get(this.port).i32(PORT_SIZE).op(Op.i32_mul, Op.i32_add).set(this.rec);
    this.ld(this.rec, PORT_RX).set(this.rx);
    this.ld(this.rec, PORT_COUNTERS).set(this.ctr);
    this.ld(this.rec, PORT_IFINDEX).set(this.ifindex);
    this.ringIndex(this.rx, RING_HEAD);
    c.set(this.head);
    this.ld(this.rx, RING_MASK).set(this.mask);
    // every frame of the batch is received, whatever happens to it: counted by the first call
    // (start 0); the calls resuming after a fault (start > 0) do not count again
    c.get(this.start).op(Op.i32_eqz).if();
    this.count(this.ctr, CTR.rx_packets, () => c.get(this.n).op(Op.i64_extend_i32_u));
    c.end();
    c.get(this.start).set(this.k);
    c.block().loop();
    c.get(this.k).get(this.n).op(Op.i32_ge_u, Op.br_if).u32(1);
    this.frame();
    c.get(this.k).i32(1).op(Op.i32_add).set(this.k);
    c.br(0).end().end();
    c.get(this.n);
    return c;
  }

  /** frame processes descriptor k. */
  private frame(): void {
    const { c, L } = this;
    c.i32(0).get(this.k).mem(Op.i32_store, 2, L.state + SW_CURSOR);
    c.get(this.rx).get(this.head).get(this.k).op(Op.i32_add).get(this.mask).op(Op.i32_and).i32(3).op(Op.i32_shl, Op.i32_add)
      .set(this.slot);
    this.ld(this.slot, RING_HDR).set(this.addr);
    this.ld(this.slot, RING_HDR + 4).set(this.len);
    this.count(this.ctr, CTR.rx_bytes, () => c.get(this.len).op(Op.i64_extend_i32_u));
    this.setContext();
    this.callProgram();
    this.readBack();
    c.block().block(); // $next { $punt { ... } punt }
    this.checkFrame();
    if (L.kind === PROG_VALE) this.dispatchVale();
    else this.dispatchXdp();
    c.end();
    this.punt();
    c.end();
  }

  private setContext(): void {
    const { c, L } = this;
    const st = (off: number, value: () => void, op: number = Op.i32_store) => {
      c.i32(0);
      value();
      c.mem(op, op === Op.i64_store ? 3 : 2, off);
    };
    const addr = () => c.get(this.addr);
    const end = () => c.get(this.addr).get(this.len).op(Op.i32_add);
    if (L.kind === PROG_VALE) {
      st(L.md, () => c.get(this.addr).op(Op.i64_extend_i32_u), Op.i64_store);
      st(L.md + VALE_MD_DATA_END, () => { end(); c.op(Op.i64_extend_i32_u); }, Op.i64_store);
      st(L.md + VALE_MD_INGRESS_PORT, () => c.get(this.port));
      st(L.md + VALE_MD_RING_NR, () => c.i32(0));
    } else {
      st(L.md, addr);
      st(L.md + 4, end);
      st(L.md + 8, addr);
      st(L.md + 12, () => c.get(this.ifindex));
      st(L.md + 16, () => c.i32(0));
      st(L.md + 20, () => c.i32(0));
    }
    st(L.state + SW_REDIRECT, () => c.i32(0));
    if (L.kind !== PROG_VALE) st(L.state + SW_EGRESS, () => c.i32(0));
    if (L.ldAbs) {
      st(L.cb + CB_PKT_START, addr);
      st(L.cb + CB_PKT_LEN, () => c.get(this.len));
    }
    if (L.checked) this.movePacketRegion();
  }

  /**
   * movePacketRegion points region table entry 1 (the packet; entry 0 is the context, both
   * written by JS once per batch) at this frame, and resets the JIT's fast-path slots the way
   * its runtime does for regions [ctx (R), packet (RW)]: R -> ctx, W and RW -> packet.
   */
  private movePacketRegion(): void {
    const { c, L } = this;
    this.ld(null, L.cb + CB_REGIONS).set(this.t);
    c.get(this.t).get(this.addr).mem(Op.i32_store, 2, REGION_ENTRY);
    c.get(this.t).get(this.addr).get(this.len).op(Op.i32_add).mem(Op.i32_store, 2, REGION_ENTRY + 4);
    c.i32(0).i32(L.md).mem(Op.i32_store, 2, L.cb + CB_FAST(PERM_R));
    c.i32(0).i32(24).mem(Op.i32_store, 2, L.cb + CB_FAST(PERM_R) + 4);
    for (const p of [PERM_W, PERM_RW]) {
      c.i32(0).get(this.addr).mem(Op.i32_store, 2, L.cb + CB_FAST(p));
      c.i32(0).get(this.len).mem(Op.i32_store, 2, L.cb + CB_FAST(p) + 4);
    }
  }

  private callProgram(): void {
    const { c, L } = this;
    // r1 = &ctx, r2..r5 = 0 (rewritten per frame: a helper may have run another program; a
    // trusted program passed the verifier, which refuses reads of r2..r5 before writes)
    c.i32(0).i64(L.md).mem(Op.i64_store, 3, L.cb + CONTROL_BLOCK.args);
    if (L.checked) for (let r = 1; r < 5; r++) c.i32(0).i64(0).mem(Op.i64_store, 3, L.cb + CONTROL_BLOCK.args + 8 * r);
    f64const(c, L.budget);
    c.call(this.prog);
    c.i32(0).mem(Op.i32_load, 2, L.cb + CONTROL_BLOCK.r0).set(this.v);
  }

  private readBack(): void {
    const L = this.L;
    this.ld(null, L.md).set(this.data);
    this.ld(null, L.md + (L.kind === PROG_VALE ? VALE_MD_DATA_END : 4)).set(this.end);
  }

  /** checkFrame punts unless data < end and both lie in the frame buffer of addr. */
  private checkFrame(): void {
    const { c, L } = this;
    c.get(this.addr).i32(L.poolBase).op(Op.i32_sub).i32(L.frameShift).op(Op.i32_shr_u).i32(L.frameShift).op(Op.i32_shl)
      .i32(L.poolBase).op(Op.i32_add).set(this.fstart);
    c.get(this.end).get(this.data).op(Op.i32_le_u, Op.br_if).u32(0);
    c.get(this.data).get(this.fstart).op(Op.i32_lt_u, Op.br_if).u32(0);
    c.get(this.end).get(this.fstart).i32(1 << L.frameShift).op(Op.i32_add, Op.i32_gt_u, Op.br_if).u32(0);
  }

  private dispatchXdp(): void {
    const c = this.c;
    const is = (v: number) => c.get(this.v).i32(v).op(Op.i32_eq).if();
    is(1); // XDP_DROP
    this.dropFrame();
    c.br(2).end();
    is(2); // XDP_PASS -> host ring of the ingress port
    this.ld(this.rec, PORT_HOST).set(this.ring);
    this.push(1);
    this.inc(this.ctr, CTR.act_pass);
    c.br(2).end();
    is(3); // XDP_TX
    c.get(this.rec).set(this.q).i32(CTR.act_tx).set(this.act);
    c.else();
    is(4); // XDP_REDIRECT
    this.redirectTarget();
    c.i32(CTR.act_redirect).set(this.act);
    c.else().br(2).end(); // any other action: punt
    c.end();
    this.output();
  }

  /** redirectTarget sets q to the port record of the redirect ifindex, or punts (from inside two ifs). */
  private redirectTarget(): void {
    const { c, L } = this;
    // bpf_redirect_map broadcast through the flood table's devmap: flooded here (labels inside
    // the new if: 0 it, 1 is(4), 2 is(3), 3 $punt, 4 $next); other flags: the dispatcher's
    this.ld(null, L.state + SW_REDIRECT_FLAGS).tee(this.fflags).i32(BPF_F_BROADCAST).op(Op.i32_and).if();
    this.ld(null, L.state + SW_REDIRECT).tee(this.t);
    this.ld(null, L.flood + FLOOD_DEVMAP).op(Op.i32_ne).get(this.t).op(Op.i32_eqz, Op.i32_or, Op.br_if).u32(3);
    this.inc(this.ctr, CTR.act_redirect);
    c.get(this.fflags).i32(BPF_F_EXCLUDE_INGRESS).op(Op.i32_and).set(this.fflags);
    this.flood(true, 4);
    c.end();
    c.get(this.fflags).op(Op.br_if).u32(2);
    this.ld(null, L.state + SW_EGRESS).op(Op.br_if).u32(2); // a devmap egress program runs in JavaScript
    this.ld(null, L.state + SW_REDIRECT).set(this.t);
    c.get(this.t).i32(1).op(Op.i32_sub).i32(MAX_IFINDEX - 1).op(Op.i32_ge_u, Op.br_if).u32(2);
    c.get(this.t).i32(2).op(Op.i32_shl).mem(Op.i32_load, 2, L.iftable).tee(this.t).op(Op.i32_eqz, Op.br_if).u32(2);
    c.i32(L.ports).get(this.t).i32(1).op(Op.i32_sub).i32(PORT_SIZE).op(Op.i32_mul, Op.i32_add).set(this.q);
  }

  private dispatchVale(): void {
    const { c, L } = this;
    c.get(this.v).i32(VALE_BPF_DROP).op(Op.i32_eq).if();
    this.dropFrame();
    c.br(2).end();
    c.get(this.v).i32(VALE_BPF_BROADCAST).op(Op.i32_eq).if(); // labels: 0 it, 1 $punt, 2 $next
    this.inc(this.ctr, CTR.act_broadcast);
    c.i32(1).set(this.fflags);
    this.flood(false, 2);
    c.end();
    // unicast to another existing port; hairpin, missing ports: punt
    c.get(this.v).i32(L.nports).op(Op.i32_ge_u, Op.br_if).u32(0);
    c.get(this.v).get(this.port).op(Op.i32_eq, Op.br_if).u32(0);
    c.i32(L.ports).get(this.v).i32(PORT_SIZE).op(Op.i32_mul, Op.i32_add).set(this.q);
    c.i32(CTR.act_forward).set(this.act);
    this.output();
  }

  /** output pushes the frame onto q's TX ring (punting when full) and counts; ends with br $next. */
  private output(): void {
    const c = this.c;
    this.ld(this.q, PORT_TX).set(this.ring);
    this.push(0);
    // counters: act on the ingress port, tx on the output port
    c.get(this.ctr).get(this.act).i32(3).op(Op.i32_shl, Op.i32_add).set(this.t);
    this.inc(this.t, 0);
    this.ld(this.q, PORT_COUNTERS).set(this.t);
    this.inc(this.t, CTR.tx_packets);
    this.count(this.t, CTR.tx_bytes, () => c.get(this.end).get(this.data).op(Op.i32_sub, Op.i64_extend_i32_u));
    c.br(1);
  }

  /** push appends {data, end - data} to `ring`, branching to $punt (depth puntDepth) when full. */
  private push(puntDepth: number): void {
    const { c, L } = this;
    this.ringIndex(this.ring, RING_TAIL);
    c.set(this.tail);
    c.get(this.tail);
    this.ringIndex(this.ring, RING_HEAD);
    c.op(Op.i32_sub);
    this.ld(this.ring, RING_MASK).op(Op.i32_gt_u, Op.br_if).u32(puntDepth);
    this.enqueue(this.data);
  }

  /** dropFrame counts a program drop and returns the frame to the pool. */
  private dropFrame(): void {
    this.inc(this.ctr, CTR.act_drop);
    this.inc(this.ctr, CTR.drop_program);
    this.freeFrame(this.addr);
  }

  /** freeFrame returns the frame containing the address in local `a` to the pool (clobbers t). */
  private freeFrame(a: number): void {
    const { c, L } = this;
    this.ld(null, L.pool + POOL_TOP).set(this.t);
    c.get(this.t).i32(2).op(Op.i32_shl);
    c.get(a).i32(L.poolBase).op(Op.i32_sub).i32(L.frameShift).op(Op.i32_shr_u);
    c.mem(Op.i32_store, 2, L.pool + POOL_HDR);
    c.i32(0).get(this.t).i32(1).op(Op.i32_add).mem(Op.i32_store, 2, L.pool + POOL_TOP);
  }

  /**
   * flood sends the frame [data, end) to every target port, as the dispatcher's flood does: a
   * copy (a pool frame filled by memory.copy) to each but the last, the original to the last;
   * none: a hairpin drop. Targets: ports in the flood table's devmap (`devmap`) or every port,
   * minus the ingress port when local fflags is non-zero. Ends with br `after` (the label
   * depth outside the flood's own block).
   */
  private flood(devmap: boolean, after: number): void {
    const { c } = this;
    c.block(); // $f
    c.i32(-1).set(this.flast);
    this.eachTarget(devmap, () => c.get(this.fp).set(this.flast), false);
    c.get(this.flast).i32(0).op(Op.i32_lt_s).if();
    this.inc(this.ctr, CTR.drop_hairpin);
    this.freeFrame(this.addr);
    c.br(1).end();
    this.eachTarget(devmap, () => this.floodCopy(), true);
    c.get(this.flast).set(this.fp);
    this.portOf(this.fp);
    c.get(this.data).set(this.fdesc);
    this.sendOrDrop();
    c.end();
    c.br(after);
  }

  /** eachTarget runs `body` for every target port fp (below flast when `beforeLast`). */
  private eachTarget(devmap: boolean, body: () => void, beforeLast: boolean): void {
    const { c, L } = this;
    c.i32(0).set(this.fp);
    c.block().loop();
    c.get(this.fp);
    if (beforeLast) c.get(this.flast);
    else c.i32(L.nports);
    c.op(Op.i32_ge_u, Op.br_if).u32(1);
    // target: (in the devmap) and (not the ingress port, or the ingress port is included)
    c.get(this.fp).get(this.port).op(Op.i32_ne).get(this.fflags).op(Op.i32_eqz, Op.i32_or);
    if (devmap) c.get(this.fp).mem(Op.i32_load8_u, 0, L.flood + FLOOD_MEMBERS).op(Op.i32_and);
    c.if();
    body();
    c.end();
    c.get(this.fp).i32(1).op(Op.i32_add).set(this.fp);
    c.br(0).end().end();
  }

  /** portOf sets q to the record of the port in local `p`. */
  private portOf(p: number): void {
    this.c.i32(this.L.ports).get(p).i32(PORT_SIZE).op(Op.i32_mul, Op.i32_add).set(this.q);
  }

  /** floodCopy sends a copy of the frame to port fp (no free frame: a no_frame drop there). */
  private floodCopy(): void {
    const { c, L } = this;
    this.portOf(this.fp);
    this.ld(null, L.pool + POOL_TOP).tee(this.t).op(Op.i32_eqz).if();
    this.ld(this.q, PORT_COUNTERS).set(this.t);
    this.inc(this.t, CTR.drop_no_frame);
    c.else();
    c.i32(0).get(this.t).i32(1).op(Op.i32_sub).tee(this.t).mem(Op.i32_store, 2, L.pool + POOL_TOP);
    c.get(this.t).i32(2).op(Op.i32_shl).mem(Op.i32_load, 2, L.pool + POOL_HDR).i32(L.frameShift).op(Op.i32_shl)
      .i32(L.poolBase + XDP_PACKET_HEADROOM).op(Op.i32_add).set(this.fdesc);
    c.get(this.fdesc).get(this.data).get(this.end).get(this.data).op(Op.i32_sub);
    memoryCopy(c);
    this.sendOrDrop();
    c.end();
  }

  /** sendOrDrop queues frame fdesc (end - data bytes) on q's TX ring, or frees it with a ring_full drop there. */
  private sendOrDrop(): void {
    const c = this.c;
    this.ld(this.q, PORT_TX).set(this.ring);
    this.ringIndex(this.ring, RING_TAIL);
    c.set(this.tail);
    c.get(this.tail);
    this.ringIndex(this.ring, RING_HEAD);
    c.op(Op.i32_sub);
    this.ld(this.ring, RING_MASK).op(Op.i32_gt_u).if();
    this.ld(this.q, PORT_COUNTERS).set(this.t);
    this.inc(this.t, CTR.drop_ring_full);
    this.freeFrame(this.fdesc);
    c.else();
    this.enqueue(this.fdesc);
    this.ld(this.q, PORT_COUNTERS).set(this.t);
    this.inc(this.t, CTR.tx_packets);
    this.count(this.t, CTR.tx_bytes, () => c.get(this.end).get(this.data).op(Op.i32_sub, Op.i64_extend_i32_u));
    c.end();
  }

  /** enqueue writes {local a, end - data} at ring's tail slot and publishes tail + 1. */
  private enqueue(a: number): void {
    const { c, L } = this;
    c.get(this.ring).get(this.tail).get(this.ring).mem(Op.i32_load, 2, RING_MASK).op(Op.i32_and).i32(3).op(Op.i32_shl, Op.i32_add)
      .set(this.slot);
    c.get(this.slot).get(a).mem(Op.i32_store, 2, RING_HDR);
    c.get(this.slot).get(this.end).get(this.data).op(Op.i32_sub).mem(Op.i32_store, 2, RING_HDR + 4);
    c.get(this.ring).get(this.tail).i32(1).op(Op.i32_add);
    if (L.shared) c.atomic(Atomic.i32_store, 2, RING_TAIL);
    else c.mem(Op.i32_store, 2, RING_TAIL);
  }

  /** punt records the frame for the JavaScript dispatcher. */
  private punt(): void {
    const { c, L } = this;
    this.ld(null, L.state + SW_NPUNT).tee(this.t).i32(PUNT_SIZE).op(Op.i32_mul).i32(L.punts).op(Op.i32_add).set(this.slot);
    c.get(this.slot).get(this.addr).mem(Op.i32_store, 2, PUNT_ADDR);
    c.get(this.slot).get(this.data).mem(Op.i32_store, 2, PUNT_DATA);
    c.get(this.slot).get(this.end).mem(Op.i32_store, 2, PUNT_END);
    c.get(this.slot).get(this.v).mem(Op.i32_store, 2, PUNT_R0);
    c.get(this.slot);
    this.ld(null, L.state + SW_REDIRECT);
    c.mem(Op.i32_store, 2, PUNT_TARGET);
    c.get(this.slot);
    this.ld(null, L.state + SW_REDIRECT_FLAGS);
    c.mem(Op.i32_store, 2, PUNT_FLAGS);
    c.get(this.slot);
    this.ld(null, L.state + SW_EGRESS);
    c.mem(Op.i32_store, 2, PUNT_EGRESS);
    c.i32(0).get(this.t).i32(1).op(Op.i32_add).mem(Op.i32_store, 2, L.state + SW_NPUNT);
  }
}
