/**
 * bpf_xdp_adjust_head (44), bpf_xdp_adjust_meta (54) and bpf_xdp_adjust_tail (65) with the
 * kernel's rules (net/core/filter.c), over the switch's frame buffers:
 *   - the buffer start is data_hard_start; the first XDP_FRAME_SIZE bytes stay reserved (the
 *     kernel keeps its struct xdp_frame there), so data_meta and data never go below it;
 *   - head: data += delta, metadata moves along (memmove); data must stay >= reserved end +
 *     metadata length and <= data_end - ETH_HLEN; else -EINVAL;
 *   - meta: data_meta += delta, within [reserved end, data]; else -EINVAL; the metadata length
 *     must be a multiple of 4 and at most XDP_META_MAX; else -EACCES;
 *   - tail: data_end += delta, within [data + ETH_HLEN, buffer end - tailroom]; grown bytes are
 *     zeroed; else -EINVAL.
 * After a change the xdp_md fields, the checked-mode packet region ([data_meta, data_end),
 * read-write) and the JIT's fast-path region slots follow the frame, so the program may
 * touch exactly the new packet. Both forms exist: JavaScript (interpreter, JS loop) and
 * WebAssembly (imported by the JIT, so the call stays inside Wasm).
 */
import { BPF_FUNC } from '../../core/helpers/ids.js';
import type { HelperFn, HelperRegistry } from '../../core/helpers/registry.js';
import { Code, ModuleBuilder } from '../../core/jit/wasm/encoder.js';
import { I32, I64, Op } from '../../core/jit/wasm/ops.js';
import { CONTROL_BLOCK, jitControl } from '../../core/jit/embed.js';
import type { VmContext } from '../../core/vm/engine.js';
import { PERM_R, PERM_RW, PERM_W, type Region } from '../../core/vm/memory.js';
import { XDP_MD_SIZE } from '../../core/vm/xdp.js';
import { ETH_HLEN, PROG_XDP, SW_KIND } from './layout.js';


const { fast: CB_FAST, pktLen: CB_PKT_LEN, pktStart: CB_PKT_START, regions: CB_REGIONS, regionEntry: REGION_ENTRY } = CONTROL_BLOCK;
/** XDP_FRAME_SIZE is sizeof(struct xdp_frame) on 64-bit Linux: reserved at the buffer start. */
export const XDP_FRAME_SIZE = 40;
/** XDP_META_MAX is the largest metadata length bpf_xdp_adjust_meta accepts. */
export const XDP_META_MAX = 252;
/** EINVAL and EACCES as the helpers return them (negated). */
export const EINVAL = 22, EACCES = 13;

/** AdjustTarget is what the adjust helpers need of a switch. */
export interface AdjustTarget {
  readonly state: number;
  readonly ctx: VmContext;
  readonly frame: { readonly md: number; readonly pkt: Region };
  readonly pool: { readonly base: number; readonly shift: number; readonly frameSize: number };
  /** bytes kept free at the end of each buffer (the kernel keeps skb_shared_info there) */
  readonly tailroom: number;
  /** whether the JIT may import the Wasm forms (false with the JS loop: it keeps Region objects) */
  wasmHelpers: boolean;
}

const neg = (e: number): bigint => BigInt.asUintN(64, BigInt(-e));

/** registerAdjustHelpers adds the three adjust helpers for switch `sw` to `helpers`. */
export function registerAdjustHelpers(helpers: HelperRegistry, sw: AdjustTarget): void {
  const cache = new Map<WebAssembly.Memory, Record<string, (...a: never[]) => unknown>>();
  const wasm = (name: string) => (ctx: VmContext): ((...a: never[]) => unknown) | undefined => {
    if (!sw.wasmHelpers || ctx !== sw.ctx) return undefined;
    let m = cache.get(ctx.space.memory);
    if (!m) {
      m = buildAdjustWasm(sw);
      cache.set(ctx.space.memory, m);
    }
    return m[name];
  };
  helpers.register(BPF_FUNC.xdp_adjust_head, jsForm(sw, adjustHead), wasm('head'));
  helpers.register(BPF_FUNC.xdp_adjust_meta, jsForm(sw, adjustMeta), wasm('meta'));
  helpers.register(BPF_FUNC.xdp_adjust_tail, jsForm(sw, adjustTail), wasm('tail'));
}

/** Frame is the packet pointers of the current frame and its buffer bounds. */
interface Frame { meta: number; data: number; end: number; lo: number; hi: number }

type Adjust = (f: Frame, delta: number, u8: Uint8Array) => number;

function jsForm(sw: AdjustTarget, fn: Adjust): HelperFn {
  return (r1, r2, _r3, _r4, _r5, env) => {
    const dv = env.space.dv;
    const md = sw.frame.md;
    if (r1 !== BigInt(md) || dv.getUint32(sw.state + SW_KIND, true) !== PROG_XDP) return neg(EINVAL);
    const data = dv.getUint32(md, true);
    const start = sw.pool.base + (((data - sw.pool.base) >>> sw.pool.shift) << sw.pool.shift);
    const f: Frame = { meta: dv.getUint32(md + 8, true), data, end: dv.getUint32(md + 4, true), lo: start + XDP_FRAME_SIZE,
      hi: start + sw.pool.frameSize - sw.tailroom };
    const err = fn(f, Number(BigInt.asIntN(32, r2)), env.space.u8);
    if (err !== 0) return neg(err);
    setPacket(sw, f);
    return 0n;
  };
}

function adjustHead(f: Frame, delta: number, u8: Uint8Array): number {
  const data = f.data + delta;
  if (data < f.lo + (f.data - f.meta) || data > f.end - ETH_HLEN) return EINVAL;
  if (f.meta !== f.data) u8.copyWithin(f.meta + delta, f.meta, f.data);
  f.meta += delta;
  f.data = data;
  return 0;
}

function adjustMeta(f: Frame, delta: number): number {
  const meta = f.meta + delta;
  if (meta < f.lo || meta > f.data) return EINVAL;
  const len = f.data - meta;
  if ((len & 3) !== 0 || len > XDP_META_MAX) return EACCES;
  f.meta = meta;
  return 0;
}

function adjustTail(f: Frame, delta: number, u8: Uint8Array): number {
  const end = f.end + delta;
  if (end > f.hi || end < f.data + ETH_HLEN) return EINVAL;
  if (delta > 0) u8.fill(0, f.end, end);
  f.end = end;
  return 0;
}

/** setPacket writes the frame's new pointers to xdp_md, the packet Region and the JIT's control block. */
function setPacket(sw: AdjustTarget, f: Frame): void {
  const dv = sw.ctx.space.dv;
  const md = sw.frame.md;
  dv.setUint32(md, f.data, true);
  dv.setUint32(md + 4, f.end, true);
  dv.setUint32(md + 8, f.meta, true);
  sw.frame.pkt.start = f.meta;
  sw.frame.pkt.end = f.end;
  const cb = jitControl(sw.ctx).cb;
  const table = dv.getUint32(cb + CB_REGIONS, true);
  if (table !== 0) {
    dv.setUint32(table + REGION_ENTRY, f.meta, true);
    dv.setUint32(table + REGION_ENTRY + 4, f.end, true);
  }
  dv.setUint32(cb + CB_FAST(PERM_R), md, true);
  dv.setUint32(cb + CB_FAST(PERM_R) + 4, XDP_MD_SIZE, true);
  for (const p of [PERM_W, PERM_RW]) {
    dv.setUint32(cb + CB_FAST(p), f.meta, true);
    dv.setUint32(cb + CB_FAST(p) + 4, f.end - f.meta, true);
  }
  dv.setUint32(cb + CB_PKT_START, f.data, true);
  dv.setInt32(cb + CB_PKT_LEN, f.end - f.data, true);
}

/**
 * buildAdjustWasm generates the Wasm forms: head, meta and tail, each
 * `(r1..r5 i64, insn i32) -> i64`, with the switch's addresses baked in.
 */
function buildAdjustWasm(sw: AdjustTarget): Record<string, (...a: never[]) => unknown> {
  const mb = new ModuleBuilder();
  const shared = sw.ctx.space.shared;
  mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: shared ? 65536 : undefined, shared });
  const names = ['head', 'meta', 'tail'] as const;
  for (const name of names) {
    const fn = mb.declareFunc([I64, I64, I64, I64, I64, I32], [I64]);
    mb.defineFunc(fn, new AdjustGen(sw, name).code);
    mb.exportFunc(name, fn);
  }
  const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.encode() as Uint8Array<ArrayBuffer>),
    { env: { memory: sw.ctx.space.memory } });
  return inst.exports as unknown as Record<string, (...a: never[]) => unknown>;
}

/** AdjustGen emits one adjust helper in Wasm (mirrors adjustHead / adjustMeta / adjustTail). */
class AdjustGen {
  readonly code = new Code(6);
  private readonly meta: number; private readonly data: number; private readonly end: number;
  private readonly lo: number; private readonly delta: number; private readonly nv: number; private readonly t: number;

  constructor(private readonly sw: AdjustTarget, kind: 'head' | 'meta' | 'tail') {
    const c = this.code;
    this.meta = c.local(I32); this.data = c.local(I32); this.end = c.local(I32); this.lo = c.local(I32);
    this.delta = c.local(I64); this.nv = c.local(I64); this.t = c.local(I32);
    this.prologue();
    if (kind === 'head') this.head();
    else if (kind === 'meta') this.metaBody();
    else this.tail();
    this.store();
    c.i64(0);
  }

  private fail(errno: number): void {
    this.code.i64(-errno).op(Op.return);
  }

  /** u64 pushes an i32 local zero-extended to i64. */
  private u64(local: number): Code {
    return this.code.get(local).op(Op.i64_extend_i32_u);
  }

  private prologue(): void {
    const { code: c, sw } = this;
    const md = sw.frame.md;
    c.get(0).i64(md).op(Op.i64_ne).i32(0).mem(Op.i32_load, 2, sw.state + SW_KIND).i32(PROG_XDP).op(Op.i32_ne, Op.i32_or).if();
    this.fail(EINVAL);
    c.end();
    c.i32(0).mem(Op.i32_load, 2, md).set(this.data);
    c.i32(0).mem(Op.i32_load, 2, md + 4).set(this.end);
    c.i32(0).mem(Op.i32_load, 2, md + 8).set(this.meta);
    // lo = buffer start (from data) + XDP_FRAME_SIZE
    const { base, shift } = sw.pool;
    c.get(this.data).i32(base).op(Op.i32_sub).i32(shift).op(Op.i32_shr_u).i32(shift).op(Op.i32_shl).i32(base + XDP_FRAME_SIZE)
      .op(Op.i32_add).set(this.lo);
    c.get(1).op(Op.i32_wrap_i64, Op.i64_extend_i32_s).set(this.delta);
  }

  /** check fails with errno when the i64 condition pushed by `cond` holds. */
  private failIf(errno: number, cond: () => void): void {
    cond();
    this.code.if();
    this.fail(errno);
    this.code.end();
  }

  private head(): void {
    const c = this.code;
    this.u64(this.data).get(this.delta).op(Op.i64_add).set(this.nv);
    this.failIf(EINVAL, () => {
      c.get(this.nv);
      c.get(this.lo).get(this.data).op(Op.i32_add).get(this.meta).op(Op.i32_sub, Op.i64_extend_i32_u);
      c.op(Op.i64_lt_s);
      c.get(this.nv);
      this.u64(this.end).i64(ETH_HLEN).op(Op.i64_sub, Op.i64_gt_s, Op.i32_or);
    });
    // memmove the metadata along: memory.copy(meta + delta, meta, data - meta)
    c.get(this.meta).get(this.delta).op(Op.i32_wrap_i64, Op.i32_add).get(this.meta).get(this.data).get(this.meta).op(Op.i32_sub);
    c.byte(0xfc);
    c.u32(10);
    c.byte(0);
    c.byte(0);
    c.get(this.meta).get(this.delta).op(Op.i32_wrap_i64, Op.i32_add).set(this.meta);
    c.get(this.nv).op(Op.i32_wrap_i64).set(this.data);
  }

  private metaBody(): void {
    const c = this.code;
    this.u64(this.meta).get(this.delta).op(Op.i64_add).set(this.nv);
    this.failIf(EINVAL, () => {
      c.get(this.nv);
      this.u64(this.lo).op(Op.i64_lt_s).get(this.nv);
      this.u64(this.data).op(Op.i64_gt_s, Op.i32_or);
    });
    c.get(this.data).get(this.nv).op(Op.i32_wrap_i64, Op.i32_sub).set(this.t);
    this.failIf(EACCES, () => {
      c.get(this.t).i32(3).op(Op.i32_and).get(this.t).i32(XDP_META_MAX).op(Op.i32_gt_u, Op.i32_or);
    });
    c.get(this.nv).op(Op.i32_wrap_i64).set(this.meta);
  }

  private tail(): void {
    const c = this.code;
    const { frameSize } = this.sw.pool;
    this.u64(this.end).get(this.delta).op(Op.i64_add).set(this.nv);
    this.failIf(EINVAL, () => {
      c.get(this.nv);
      c.get(this.lo).i32(frameSize - XDP_FRAME_SIZE - this.sw.tailroom).op(Op.i32_add, Op.i64_extend_i32_u, Op.i64_gt_s);
      c.get(this.nv);
      this.u64(this.data).i64(ETH_HLEN).op(Op.i64_add, Op.i64_lt_s, Op.i32_or);
    });
    c.get(this.delta).i64(0).op(Op.i64_gt_s).if();
    c.get(this.end).i32(0).get(this.delta).op(Op.i32_wrap_i64).memoryFill();
    c.end();
    c.get(this.nv).op(Op.i32_wrap_i64).set(this.end);
  }

  /** store writes md, the packet region (table entry 1) and the JIT's fast slots and packet. */
  private store(): void {
    const { code: c, sw } = this;
    const md = sw.frame.md;
    const cb = jitControl(sw.ctx).cb;
    c.i32(0).get(this.data).mem(Op.i32_store, 2, md);
    c.i32(0).get(this.end).mem(Op.i32_store, 2, md + 4);
    c.i32(0).get(this.meta).mem(Op.i32_store, 2, md + 8);
    c.i32(0).mem(Op.i32_load, 2, cb + CB_REGIONS).tee(this.t).if();
    c.get(this.t).get(this.meta).mem(Op.i32_store, 2, REGION_ENTRY);
    c.get(this.t).get(this.end).mem(Op.i32_store, 2, REGION_ENTRY + 4);
    c.end();
    c.i32(0).i32(md).mem(Op.i32_store, 2, cb + CB_FAST(PERM_R));
    c.i32(0).i32(XDP_MD_SIZE).mem(Op.i32_store, 2, cb + CB_FAST(PERM_R) + 4);
    for (const p of [PERM_W, PERM_RW]) {
      c.i32(0).get(this.meta).mem(Op.i32_store, 2, cb + CB_FAST(p));
      c.i32(0).get(this.end).get(this.meta).op(Op.i32_sub).mem(Op.i32_store, 2, cb + CB_FAST(p) + 4);
    }
    c.i32(0).get(this.data).mem(Op.i32_store, 2, cb + CB_PKT_START);
    c.i32(0).get(this.end).get(this.data).op(Op.i32_sub).mem(Op.i32_store, 2, cb + CB_PKT_LEN);
  }
}

