/**
 * Ring buffer helpers in WebAssembly (bpf_ringbuf_reserve / submit / discard / output /
 * query), so a JIT program's ring buffer calls stay in Wasm. A small module of its own,
 * instantiated once per (context, mode) over the runtime's memory, with the JIT's helper
 * signature (r1..r5 i64, insn i32) -> i64; it mirrors ringbuf.ts and runtime/ringbuf.ts step
 * for step (same positions, record headers, results and faults). The only call out is the
 * `wake(hdr)` import after a submit without BPF_RB_NO_WAKEUP, and only while a consumer in
 * this thread waits on the map (header word H_RB_WAITERS, kept by RingBuffer).
 */
import { BpfError } from '../errors.js';
import type { WasmHelperFactory } from '../helpers/registry.js';
import { ModuleBuilder } from '../jit/wasm/encoder.js';
import type { Code } from '../jit/wasm/encoder.js';
import { contextRuntime } from '../jit/runtime.js';
import type { VmContext } from '../vm/engine.js';
import { BPF_MAP_TYPE_RINGBUF, EINVAL, H_MAX_ENTRIES, H_TYPE, H_VALUES, HEADER_SIZE, RB_TABLE, RB_TABLE_LEN } from './layout.js';
import {
  BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RB_PROD_POS, BPF_RB_RING_SIZE, BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ, H_RB_CONS, H_RB_PEND, H_RB_PROD, H_RB_WAITERS, RINGBUF_MAX_RECORD_SZ,
} from './ringbuf.js';
import { genCheck, genMapPtr } from './wasm-lib.js';
import { faultError } from './wasm.js';
import { I32, I64, type MRT, Op, field, load32, memCopy, memSize, newCode, store32, lock, unlock } from './wasm-util.js';

/** RINGBUF_HELPERS are the helpers the module exports. */
export const RINGBUF_HELPERS = ['ringbuf_reserve', 'ringbuf_submit', 'ringbuf_discard', 'ringbuf_output', 'ringbuf_query'] as const;
type RingbufHelper = (typeof RINGBUF_HELPERS)[number];

/** Fault kinds of this module beyond the map runtime's. */
const RF_NOT_RING = 20, RF_NOT_RECORD = 21;
const EAGAIN = 11;
const INSN = 5;

/** RingbufMRT is the part of the map runtime's index record the shared emitters (check, map pointer) use. */
type RingbufMRT = Pick<MRT, 'fault' | 'gStackBase' | 'gCb' | 'gCpu' | 'gChecked' | 'gBlock' | 'check' | 'mapptr' | 'shared'> & { wake: number; reserve: number; commit: number; ring: number };

/** buildRingbufModule encodes the module for shared or unshared memory. */
export function buildRingbufModule(shared: boolean): Uint8Array {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: shared ? 65536 : undefined, shared });
  const fault = mb.importFunc('env', 'fault', [I32, I32, I64, I32], []);
  const wake = mb.importFunc('env', 'wake', [I32], []);
  const g = (name: string): number => mb.importGlobal('env', name, I32);
  const m: RingbufMRT = {
    fault, wake, gStackBase: g('stackBase'), gCb: g('cb'), gCpu: g('cpu'), gChecked: g('checked'), gBlock: g('block'),
    check: mb.declareFunc([I64, I32, I32, I32], []),
    mapptr: mb.declareFunc([I64, I32], [I32]),
    ring: mb.declareFunc([I64, I32], [I32]),
    reserve: mb.declareFunc([I32, I32], [I32]),
    commit: mb.declareFunc([I64, I64, I32, I32], []),
    shared,
  };
  const full = m as unknown as MRT;
  mb.defineFunc(m.check, genCheck(full));
  mb.defineFunc(m.mapptr, genMapPtr(full));
  mb.defineFunc(m.ring, genRing(m));
  mb.defineFunc(m.reserve, genReserve(m));
  mb.defineFunc(m.commit, genCommit(m));
  const helper = [I64, I64, I64, I64, I64, I32];
  const gens: Record<RingbufHelper, (m: RingbufMRT) => Code> = {
    ringbuf_reserve: genReserveHelper, ringbuf_submit: (x) => genCommitHelper(x, false), ringbuf_discard: (x) => genCommitHelper(x, true),
    ringbuf_output: genOutput, ringbuf_query: genQuery,
  };
  for (const name of RINGBUF_HELPERS) {
    const f = mb.declareFunc(helper, [I64]);
    mb.defineFunc(f, gens[name](m));
    mb.exportFunc(name, f);
  }
  return mb.encode();
}

/** genRing: (p, insn) -> header of ring buffer map p; faults like ringOf (not a map, not a ring buffer). */
function genRing(m: RingbufMRT): Code {
  const c = newCode(2);
  const hdr = c.local(I32);
  c.get(0).get(1).call(m.mapptr).tee(hdr);
  load32(c, H_TYPE); c.i32(BPF_MAP_TYPE_RINGBUF).op(Op.i32_ne).if();
  c.i32(RF_NOT_RING).get(1).get(0).i32(0).call(m.fault).op(Op.unreachable);
  c.end();
  c.get(hdr);
  return c;
}

/** recLen pushes round8(header + size) for the i32 record length on the stack. */
function recLen(c: Code): void {
  c.i32(BPF_RINGBUF_HDR_SZ + 7).op(Op.i32_add).i32(~7).op(Op.i32_and);
}

/** genReserve: (hdr, size) -> record data address or 0 (ringbufReserve). */
function genReserve(m: RingbufMRT): Code {
  const c = newCode(2);
  const hdr = 0, size = 1, total = c.local(I32), len = c.local(I32), data = c.local(I32), l = c.local(I32), rec = c.local(I32);
  const prod = c.local(I64), pend = c.local(I64), next = c.local(I64), mask = c.local(I64);
  c.get(size).i32(RINGBUF_MAX_RECORD_SZ).op(Op.i32_gt_u).if().i32(0).op(Op.return).end();
  field(c, hdr, H_MAX_ENTRIES).set(total);
  c.get(size); recLen(c); c.tee(len).get(total).op(Op.i32_gt_u).if().i32(0).op(Op.return).end();
  field(c, hdr, H_VALUES).set(data);
  c.get(total).i32(1).op(Op.i32_sub).op(Op.i64_extend_i32_u).set(mask);
  lock(c, m as unknown as MRT, hdr);
  c.get(hdr).mem(Op.i64_load, 3, H_RB_PROD).set(prod);
  c.get(hdr).mem(Op.i64_load, 3, H_RB_PEND).set(pend);
  // the oldest record still busy: pending moves past committed records
  c.block().loop();
  c.get(pend).get(prod).op(Op.i64_ge_u).op(Op.br_if).u32(1);
  c.get(data).get(pend).get(mask).op(Op.i64_and).op(Op.i32_wrap_i64).op(Op.i32_add); load32(c); c.tee(l);
  c.i32(BPF_RINGBUF_BUSY_BIT | 0).op(Op.i32_and).op(Op.br_if).u32(1);
  c.get(pend).get(l).i32(~BPF_RINGBUF_DISCARD_BIT).op(Op.i32_and); recLen(c); c.op(Op.i64_extend_i32_u).op(Op.i64_add).set(pend);
  c.br(0);
  c.end().end();
  c.get(hdr).get(pend).mem(Op.i64_store, 3, H_RB_PEND);
  c.get(prod).get(len).op(Op.i64_extend_i32_u).op(Op.i64_add).tee(next);
  c.get(hdr).mem(Op.i64_load, 3, H_RB_CONS).op(Op.i64_sub).get(mask).op(Op.i64_gt_u);
  c.get(next).get(pend).op(Op.i64_sub).get(mask).op(Op.i64_gt_u).op(Op.i32_or).if();
  unlock(c, m as unknown as MRT, hdr);
  c.i32(0).op(Op.return);
  c.end();
  c.get(data).get(prod).get(mask).op(Op.i64_and).op(Op.i32_wrap_i64).op(Op.i32_add).tee(rec);
  c.get(size).i32(BPF_RINGBUF_BUSY_BIT | 0).op(Op.i32_or); store32(c);
  c.get(rec).get(rec).get(hdr).op(Op.i32_sub).i32(3).op(Op.i32_shr_u); store32(c, 4);
  c.get(hdr).get(next).mem(Op.i64_store, 3, H_RB_PROD);
  unlock(c, m as unknown as MRT, hdr);
  c.get(rec).i32(BPF_RINGBUF_HDR_SZ).op(Op.i32_add);
  return c;
}

/** wakeUnless: after a commit to `hdr` (local), call `wake` unless flags (local i64) has BPF_RB_NO_WAKEUP or nobody waits. */
function wakeUnless(c: Code, m: RingbufMRT, hdr: number, flags: number): void {
  c.get(flags).i64(BPF_RB_NO_WAKEUP).op(Op.i64_and).op(Op.i64_eqz);
  field(c, hdr, H_RB_WAITERS); c.i32(0).op(Op.i32_ne).op(Op.i32_and).if();
  c.get(hdr).call(m.wake);
  c.end();
}

/** genReserveHelper: bpf_ringbuf_reserve(map, size, flags). */
function genReserveHelper(m: RingbufMRT): Code {
  const c = newCode(6);
  const hdr = c.local(I32);
  c.get(0).get(INSN).call(m.ring).set(hdr);
  c.get(2).i64(0).op(Op.i64_ne).get(1).i64(0x100000000n).op(Op.i64_ge_u).op(Op.i32_or).if().i64(0).op(Op.return).end();
  c.get(hdr).get(1).op(Op.i32_wrap_i64).call(m.reserve).op(Op.i64_extend_i32_u);
  return c;
}

/**
 * genCommit: (p, flags, discard, insn): validate p as a busy record of a ring buffer
 * (sampleOf), clear BUSY (set DISCARD), wake (commit in runtime/ringbuf.ts).
 */
function genCommit(m: RingbufMRT): Code {
  const c = newCode(4);
  const p = 0, flags = 1, discard = 2, insn = 3, s = c.local(I32), hdr = c.local(I32), h64 = c.local(I64), id = c.local(I32), l = c.local(I32);
  c.block();
  c.get(p).i64(0x100000000n).op(Op.i64_ge_u).get(p).i64(8).op(Op.i64_lt_u).op(Op.i32_or).op(Op.br_if).u32(0);
  c.get(p); memSize(c); c.op(Op.i64_gt_u).op(Op.br_if).u32(0);
  c.get(p).op(Op.i32_wrap_i64).set(s);
  // the map header: sample - 8 - 8 * (second header word); a map of this runtime, a ring buffer
  c.get(s).i32(BPF_RINGBUF_HDR_SZ).op(Op.i32_sub).op(Op.i64_extend_i32_u);
  c.get(s).i32(4).op(Op.i32_sub); load32(c); c.op(Op.i64_extend_i32_u).i64(3).op(Op.i64_shl).op(Op.i64_sub).tee(h64);
  c.i64(0).op(Op.i64_le_s).op(Op.br_if).u32(0);
  c.get(h64).i64(HEADER_SIZE).op(Op.i64_add); memSize(c); c.op(Op.i64_gt_u).op(Op.br_if).u32(0);
  c.get(h64).op(Op.i32_wrap_i64).tee(hdr); load32(c); c.tee(id).op(Op.i32_eqz).op(Op.br_if).u32(0);
  c.get(id).gget(m.gBlock); load32(c, RB_TABLE_LEN); c.op(Op.i32_ge_u).op(Op.br_if).u32(0);
  c.gget(m.gBlock); load32(c, RB_TABLE); c.get(id).i32(2).op(Op.i32_shl).op(Op.i32_add); load32(c); c.get(hdr).op(Op.i32_ne).op(Op.br_if).u32(0);
  field(c, hdr, H_TYPE).i32(BPF_MAP_TYPE_RINGBUF).op(Op.i32_ne).op(Op.br_if).u32(0);
  // inside the data area (and its overflow twin), still busy
  c.get(s).i32(BPF_RINGBUF_HDR_SZ).op(Op.i32_sub); field(c, hdr, H_VALUES); c.op(Op.i32_lt_u).op(Op.br_if).u32(0);
  c.get(s); field(c, hdr, H_VALUES); field(c, hdr, H_MAX_ENTRIES); c.op(Op.i32_add).i32(BPF_RINGBUF_HDR_SZ).op(Op.i32_add).op(Op.i32_ge_u).op(Op.br_if).u32(0);
  c.get(s).i32(BPF_RINGBUF_HDR_SZ).op(Op.i32_sub); load32(c); c.tee(l).i32(BPF_RINGBUF_BUSY_BIT | 0).op(Op.i32_and).op(Op.i32_eqz).op(Op.br_if).u32(0);
  c.get(s).i32(BPF_RINGBUF_HDR_SZ).op(Op.i32_sub);
  // select(a, b, discard) = discard ? a : b
  c.get(l).i32(~BPF_RINGBUF_BUSY_BIT).op(Op.i32_and).i32(BPF_RINGBUF_DISCARD_BIT).op(Op.i32_or).get(l).i32(~BPF_RINGBUF_BUSY_BIT).op(Op.i32_and);
  c.get(discard).op(Op.select); store32(c);
  wakeUnless(c, m, hdr, flags);
  c.op(Op.return);
  c.end();
  c.i32(RF_NOT_RECORD).get(insn).get(p).i32(0).call(m.fault).op(Op.unreachable);
  return c;
}

/** genCommitHelper: bpf_ringbuf_submit / bpf_ringbuf_discard(data, flags) -> 0. */
function genCommitHelper(m: RingbufMRT, discard: boolean): Code {
  const c = newCode(6);
  c.get(0).get(1).i32(discard ? 1 : 0).get(INSN).call(m.commit);
  c.i64(0);
  return c;
}

/** genOutput: bpf_ringbuf_output(map, data, size, flags) -> 0, -EINVAL, -EAGAIN. */
function genOutput(m: RingbufMRT): Code {
  const c = newCode(6);
  const hdr = c.local(I32), n = c.local(I32), rec = c.local(I32);
  c.get(0).get(INSN).call(m.ring).set(hdr);
  c.get(3).i64(~BigInt(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)).op(Op.i64_and).i64(0).op(Op.i64_ne).if().i64(-EINVAL).op(Op.return).end();
  c.get(2).op(Op.i32_wrap_i64).set(n);
  c.get(1).get(n).i32(0).get(INSN).call(m.check);
  c.get(hdr).get(n).call(m.reserve).tee(rec).op(Op.i32_eqz).if().i64(-EAGAIN).op(Op.return).end();
  c.get(rec).get(1).op(Op.i32_wrap_i64).get(n); memCopy(c);
  c.get(rec).op(Op.i64_extend_i32_u).get(3).i32(0).get(INSN).call(m.commit);
  c.i64(0);
  return c;
}

/** genQuery: bpf_ringbuf_query(map, flags). */
function genQuery(m: RingbufMRT): Code {
  const c = newCode(6);
  const hdr = c.local(I32);
  c.get(0).get(INSN).call(m.ring).set(hdr);
  const when = (flag: number, value: () => void): void => {
    c.get(1).i64(flag).op(Op.i64_eq).if(); value(); c.op(Op.return).end();
  };
  when(BPF_RB_AVAIL_DATA, () => c.get(hdr).mem(Op.i64_load, 3, H_RB_PROD).get(hdr).mem(Op.i64_load, 3, H_RB_CONS).op(Op.i64_sub));
  when(BPF_RB_RING_SIZE, () => field(c, hdr, H_MAX_ENTRIES).op(Op.i64_extend_i32_u));
  when(BPF_RB_CONS_POS, () => c.get(hdr).mem(Op.i64_load, 3, H_RB_CONS));
  when(BPF_RB_PROD_POS, () => c.get(hdr).mem(Op.i64_load, 3, H_RB_PROD));
  c.i64(0);
  return c;
}

const modules = new Map<boolean, WebAssembly.Module>();

/** ringFault builds the BpfError of a `fault` call: the map runtime's kinds, then this module's. */
function ringFault(kind: number, insn: number, addr: bigint, len: number): BpfError {
  if (kind === RF_NOT_RING) return new BpfError('E_HELPER', 'map is not a ring buffer', { insn });
  if (kind === RF_NOT_RECORD) return new BpfError('E_HELPER', `0x${BigInt.asUintN(64, addr).toString(16)} is not a reserved ring buffer record`, { insn });
  return faultError(kind, insn, addr, len);
}

/** RingbufHost is what an instance needs: memory, the runtime block, and the consumers' wake-up. */
export interface RingbufHost {
  readonly space: { readonly memory: WebAssembly.Memory; readonly shared: boolean };
  readonly table: { readonly block: number };
}

const instances = new WeakMap<VmContext, Map<boolean, Record<RingbufHelper, unknown>>>();

/**
 * ringbufWasmHelper is the WasmHelperFactory of one ring buffer helper; `wake(hdr)` notifies
 * this thread's consumers of map `hdr` (the JavaScript helpers' notify).
 */
export function ringbufWasmHelper(host: RingbufHost, name: RingbufHelper, wake: (hdr: number) => void): WasmHelperFactory {
  return (ctx, checked) => {
    if (ctx.space.memory !== host.space.memory) return undefined;
    let per = instances.get(ctx);
    if (!per) instances.set(ctx, (per = new Map()));
    let ex = per.get(checked);
    if (!ex) {
      const shared = host.space.shared;
      let mod = modules.get(shared);
      if (!mod) modules.set(shared, (mod = new WebAssembly.Module(buildRingbufModule(shared) as Uint8Array<ArrayBuffer>)));
      const gl = (v: number): WebAssembly.Global => new WebAssembly.Global({ value: 'i32', mutable: false }, v | 0);
      const env = {
        memory: host.space.memory,
        fault: (kind: number, insn: number, addr: bigint, len: number) => {
          throw ringFault(kind, insn, addr, len);
        },
        wake: (hdr: number) => wake(hdr >>> 0),
        stackBase: gl(ctx.stack.base), cb: gl(contextRuntime(ctx).cb), cpu: gl(ctx.cpu), checked: gl(checked ? 1 : 0),
        block: gl(host.table.block),
      };
      ex = new WebAssembly.Instance(mod, { env }).exports as unknown as Record<RingbufHelper, unknown>;
      per.set(checked, ex);
    }
    return ex[name] as (...a: never[]) => unknown;
  };
}
