/**
 * Calls and exits (check_helper_call, check_func_call, prepare_func_exit, check_return_code):
 * helper arguments checked against their prototypes, results typed by the return kind,
 * caller-saved registers clobbered, packet pointers dropped by packet-changing helpers,
 * ring-buffer references acquired and released, spin locks, callbacks (bpf_loop,
 * bpf_for_each_map_elem) explored as frames that may run any number of times, and
 * bpf-to-bpf calls with their own frames.
 */
import * as o from '../isa/opcodes.js';
import { helperName } from '../helpers/registry.js';
import { MAP_ONLY_FUNCS, helperProto, type ArgType, type HelperProto } from '../helpers/protos.js';
import { reject } from './codes.js';
import { helperMem } from './mem.js';
import { MAP_OF_MAPS, MT, mapTypeName, mapTypeNumber, VALUE_MAPS, type MapRef } from './maps.js';

/**
 * PKT_ACCESS are the helpers that may be given packet pointers (the kernel's `.pkt_access`
 * protos); the others may not, even with a checked range (may_access_direct_pkt_data).
 */
const PKT_ACCESS = new Set(['map_lookup_elem', 'map_update_elem', 'map_delete_elem', 'map_push_elem', 'csum_diff']);

/** ARRAYS are the maps whose lookups with a constant key in range never fail. */
const ARRAYS = new Set<number>([MT.ARRAY, MT.PERCPU_ARRAY]);
import { mapRegs } from './jmp.js';
import {
  NOT_INIT_REG, RegType, UNKNOWN_REG, isKnownZero, isPacket, ptrReg, scalarReg, typeName, type Reg,
} from './reg.js';
import { isConst, unsignedRange } from './scalar.js';
import { STACK_ZERO, copyState, cur, newFrame, type CallbackFrame, type VState } from './state.js';
import type { Verifier } from './verifier.js';

interface Meta {
  map: MapRef | null;
  memRegno: number;
  memArg: ArgType | null;
  func: number;
  ctxArg: Reg | null;
  allocSize: number;
  release: Reg | null;
  /** the key, when it is a known constant on the stack (array lookups then cannot fail) */
  constKey: bigint | null;
}

/** constStackKey reads a map key that is a known constant on the stack (zeroed bytes or a spilled constant). */
function constStackKey(st: VState, reg: Reg, size: number): bigint | null {
  if (reg.type !== RegType.PTR_TO_STACK || !isConst(reg.s) || size > 8) return null;
  const f = st.frames[reg.frame];
  const i0 = 512 + reg.off + Number(BigInt.asIntN(64, reg.s.t.v));
  if (f.stype.subarray(i0, i0 + size).every((t) => t === STACK_ZERO)) return 0n;
  const sp = f.spills[i0 >> 3];
  if ((i0 & 7) === 0 && sp && sp.type === RegType.SCALAR && isConst(sp.s) && f.spillSize[i0 >> 3] === size) return sp.s.t.v;
  return null;
}

const fname = (p: HelperProto): string => `bpf_${p.name}#${p.id}`;

/** helperCall checks a call of helper `id` at `pc`; it returns the next pc. */
export function helperCall(v: Verifier, st: VState, id: number, pc: number): number {
  const p = helperProto(id);
  if (!p) return reject('UNKNOWN_HELPER', `unknown func ${helperName(id)}#${id}`);
  if (p.progTypes && !p.progTypes.includes(v.progType)) reject('HELPER_NOT_ALLOWED', `program of this type cannot use helper ${fname(p)}`);
  if (st.lock && p.name !== 'spin_unlock') reject('LOCK', 'function calls are not allowed while holding a lock');
  const meta: Meta = { map: null, memRegno: 0, memArg: null, func: -1, ctxArg: null, allocSize: 0, release: null, constKey: null };
  p.args.forEach((a, k) => checkArg(v, st, p, a, k + 1, meta));
  if (p.name === 'spin_lock' || p.name === 'spin_unlock') spinLock(st, p.name === 'spin_lock', v.readReg(st, 1));
  if (meta.release) release(st, meta.release);
  if (p.pktChanging) mapRegs(st, (r) => (isPacket(r) || r.type === RegType.PTR_TO_PACKET_END ? UNKNOWN_REG : r));
  const f = cur(st);
  const args = f.regs.slice(1, 6);
  f.regs[0] = result(v, st, p, meta, pc);
  for (let r = 1; r <= 5; r++) f.regs[r] = NOT_INIT_REG;
  if (!p.callback) return pc + 1;
  return enterCallback(v, st, p, meta, args, pc);
}

function checkArg(v: Verifier, st: VState, p: HelperProto, a: ArgType, regno: number, meta: Meta): void {
  const reg = v.readReg(st, regno);
  const bad = (expected: string): never => reject('HELPER_ARG', `R${regno} type=${typeName(reg)} expected=${expected}`);
  if (a !== 'ARG_ANYTHING' && isPacket(reg) && v.progType !== 'raw' && !PKT_ACCESS.has(p.name)) {
    reject('PKT_ACCESS', 'helper access to the packet is not allowed');
  }
  switch (a) {
    case 'ARG_ANYTHING':
      return;
    case 'ARG_CONST_MAP_PTR':
      if (reg.type !== RegType.CONST_PTR_TO_MAP) bad('map_ptr');
      meta.map = reg.map;
      mapCompat(p, reg.map!);
      return;
    case 'ARG_PTR_TO_MAP_KEY':
    case 'ARG_PTR_TO_MAP_VALUE':
    case 'ARG_PTR_TO_UNINIT_MAP_VALUE': {
      if (!meta.map) reject('HELPER_ARG', 'invalid map_ptr to access map->key');
      const key = a === 'ARG_PTR_TO_MAP_KEY';
      const size = key ? meta.map.info.keySize : meta.map.info.valueSize;
      helperMem(v, st, { regno, sizeMin: size, sizeMax: size, write: a === 'ARG_PTR_TO_UNINIT_MAP_VALUE', what: key ? 'read from' : 'access to' });
      if (key) meta.constKey = constStackKey(st, reg, size);
      return;
    }
    case 'ARG_PTR_TO_MEM':
    case 'ARG_PTR_TO_MEM_OR_NULL':
    case 'ARG_PTR_TO_UNINIT_MEM':
      if (a === 'ARG_PTR_TO_MEM_OR_NULL' && isKnownZero(reg)) {
        meta.memRegno = -regno;
        return;
      }
      if (!isMemPointer(reg)) bad('fp, pkt, map_value, mem');
      meta.memRegno = regno;
      meta.memArg = a;
      return;
    case 'ARG_CONST_SIZE':
    case 'ARG_CONST_SIZE_OR_ZERO':
      return sizeArg(v, st, reg, regno, a === 'ARG_CONST_SIZE_OR_ZERO', meta);
    case 'ARG_CONST_ALLOC_SIZE_OR_ZERO':
      if (reg.type !== RegType.SCALAR || !isConst(reg.s)) reject('HELPER_SIZE', `R${regno} is not a known constant'`);
      meta.allocSize = Number(reg.s.t.v > 0xffffffffn ? 0xffffffffn : reg.s.t.v);
      return;
    case 'ARG_PTR_TO_CTX':
      if (reg.type !== RegType.PTR_TO_CTX) bad('ctx');
      if (reg.off !== 0 || !isConst(reg.s) || reg.s.t.v !== 0n) reject('MODIFIED_CTX', `dereference of modified ctx ptr R${regno} off=${reg.off} disallowed`);
      meta.ctxArg = reg;
      return;
    case 'ARG_PTR_TO_FUNC':
      if (reg.type !== RegType.PTR_TO_FUNC) bad('func');
      meta.func = reg.size;
      return;
    case 'ARG_PTR_TO_STACK_OR_NULL':
      if (!isKnownZero(reg) && reg.type !== RegType.PTR_TO_STACK) bad('fp');
      return;
    case 'ARG_PTR_TO_RINGBUF_MEM':
      if (reg.type !== RegType.PTR_TO_MEM || !reg.ringbuf || reg.nullable) bad('ringbuf_mem');
      if (reg.off !== 0 || !isConst(reg.s) || reg.s.t.v !== 0n) reject('RELEASE_INVALID', `R${regno} must have zero offset when passed to release func`);
      if (!reg.ref) reject('RELEASE_INVALID', `R${regno} must be referenced when passed to release function`);
      meta.release = reg;
      return;
    case 'ARG_PTR_TO_SPIN_LOCK':
      if (reg.type !== RegType.PTR_TO_MAP_VALUE || reg.nullable) bad('map_value');
      return;
  }
}

function isMemPointer(r: Reg): boolean {
  if (r.nullable) return false;
  return r.type === RegType.PTR_TO_STACK || r.type === RegType.PTR_TO_MAP_VALUE || r.type === RegType.PTR_TO_MEM
    || r.type === RegType.PTR_TO_PACKET || r.type === RegType.PTR_TO_PACKET_META || r.type === RegType.PTR_TO_MAP_KEY;
}

function sizeArg(v: Verifier, st: VState, reg: Reg, regno: number, zeroOk: boolean, meta: Meta): void {
  if (reg.type !== RegType.SCALAR) reject('HELPER_ARG', `R${regno} type=${typeName(reg)} expected=scalar`);
  const s = reg.s;
  if (meta.memRegno < 0) {
    if (s.umax !== 0n) reject('HELPER_ARG', `R${-meta.memRegno} type=scalar expected=fp, pkt, map_value, mem`);
    return;
  }
  if (s.smin < 0n) reject('HELPER_SIZE', `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  if (s.umin === 0n && !zeroOk) reject('HELPER_SIZE', `R${regno} invalid zero-sized read: u64=[${s.umin},${s.umax}]`);
  if (s.umax >= 1n << 29n) reject('HELPER_SIZE', `R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
  helperMem(v, st, {
    regno: meta.memRegno, sizeMin: Number(s.umin), sizeMax: Number(s.umax), write: meta.memArg === 'ARG_PTR_TO_UNINIT_MEM', what: 'read from',
  });
}

function mapCompat(p: HelperProto, m: MapRef): void {
  const bad = (): never => reject('HELPER_MAP', `cannot pass map_type ${m.type} (${mapTypeName(m.type)}) into func ${fname(p)}`);
  if (p.mapTypes && !p.mapTypes.includes(m.type)) bad();
  const only = MAP_ONLY_FUNCS.get(m.type);
  if (only && !only.includes(p.name)) bad();
  if (!p.mapTypes && !only && m.type < 0) bad();
}

function result(v: Verifier, st: VState, p: HelperProto, meta: Meta, pc: number): Reg {
  switch (p.ret) {
    case 'RET_INTEGER': return UNKNOWN_REG;
    case 'RET_VOID': return NOT_INIT_REG;
    case 'RET_PTR_TO_MAP_VALUE_OR_NULL':
      if (MAP_OF_MAPS.has(meta.map!.type)) return innerMap(v, meta.map!);
      if (!VALUE_MAPS.has(meta.map!.type)) reject('HELPER_MAP', `cannot pass map_type ${meta.map!.type} into func ${fname(p)}`);
      if (meta.constKey !== null && ARRAYS.has(meta.map!.type) && meta.constKey < BigInt(meta.map!.info.maxEntries)) {
        // a value holding a spin lock keeps an id: the lock is identified by it
        return ptrReg(RegType.PTR_TO_MAP_VALUE, { map: meta.map, id: meta.map!.info.spinLockOff === undefined ? 0 : v.newId() });
      }
      return ptrReg(RegType.PTR_TO_MAP_VALUE, { map: meta.map, nullable: true, id: v.newId() });
    case 'RET_PTR_TO_RINGBUF_MEM_OR_NULL': {
      const id = v.newId();
      st.refs = [...st.refs, { id, insn: pc }];
      return ptrReg(RegType.PTR_TO_MEM, { size: meta.allocSize, ringbuf: true, nullable: true, id, ref: id });
    }
  }
}

/** innerMap is the result of a lookup in a map of maps: an inner map, or NULL. */
function innerMap(v: Verifier, outer: MapRef): Reg {
  const inner = outer.info.inner;
  if (!inner) return reject('UNSUPPORTED', `map fd ${outer.fd} is a map of maps without a description of its inner maps`);
  const map: MapRef = { fd: -1000 - outer.fd, info: inner, type: mapTypeNumber(inner.type) };
  return ptrReg(RegType.CONST_PTR_TO_MAP, { map, nullable: true, id: v.newId() });
}

function release(st: VState, r: Reg): void {
  if (!st.refs.some((x) => x.id === r.ref)) reject('RELEASE_INVALID', `reference has not been acquired before`);
  st.refs = st.refs.filter((x) => x.id !== r.ref);
  mapRegs(st, (x) => (x.ref === r.ref ? UNKNOWN_REG : x));
}

function spinLock(st: VState, lock: boolean, reg: Reg): void {
  const m = reg.map!;
  if (m.info.spinLockOff === undefined) reject('LOCK', `map has to have BTF in order to use bpf_spin_lock`);
  const off = reg.off + (isConst(reg.s) ? Number(reg.s.t.v) : NaN);
  if (off !== m.info.spinLockOff) reject('LOCK', `off ${reg.off} doesn't point to 'struct bpf_spin_lock' that is at ${m.info.spinLockOff}`);
  if (lock) {
    if (st.lock) reject('LOCK', 'Locking two bpf_spin_locks are not allowed');
    st.lock = { mapFd: m.fd, off, id: reg.id };
    return;
  }
  if (!st.lock) reject('LOCK', 'bpf_spin_unlock without taking a lock');
  if (st.lock.mapFd !== m.fd || st.lock.off !== off || st.lock.id !== reg.id) reject('LOCK', 'bpf_spin_unlock of different lock');
  st.lock = null;
}

/** callbackArgs are the callback's r1..r5 at entry. */
function callbackArgs(p: HelperProto, meta: Meta, args: Reg[]): Reg[] {
  if (p.callback === 'loop') return [scalarReg(unsignedRange(0n, 0xffffffffn)), args[2], NOT_INIT_REG, NOT_INIT_REG, NOT_INIT_REG];
  const map = meta.map;
  return [ptrReg(RegType.CONST_PTR_TO_MAP, { map }), ptrReg(RegType.PTR_TO_MAP_KEY, { map }),
    ptrReg(RegType.PTR_TO_MAP_VALUE, { map }), args[2], NOT_INIT_REG];
}

/**
 * enterCallback explores the callback as a new frame. The path that skips it (zero calls)
 * continues after the helper; each exit from the callback both returns and calls it again.
 */
function enterCallback(v: Verifier, st: VState, p: HelperProto, meta: Meta, args: Reg[], pc: number): number {
  v.push(copyState(st), pc + 1, pc);
  const cb: CallbackFrame = { helperPc: pc, entry: meta.func, args: callbackArgs(p, meta, args) };
  pushFrame(v, st, pc, meta.func, cb.args, cb);
  return meta.func;
}

function pushFrame(v: Verifier, st: VState, callsite: number, entry: number, args: Reg[], cb: CallbackFrame | null): void {
  if (st.frames.length >= o.MAX_CALL_FRAMES) reject('CALL_DEPTH', `the call stack of ${st.frames.length + 1} frames is too deep !`);
  const f = newFrame(callsite, v.cfg.subprogOf[entry], cb);
  for (let r = 1; r <= 5; r++) f.regs[r] = args[r - 1];
  f.regs[10] = ptrReg(RegType.PTR_TO_STACK, { frame: st.frames.length });
  st.frames.push(f);
}

/** pseudoCall enters the subprogram called at `pc` (bpf-to-bpf call); returns its first insn. */
export function pseudoCall(v: Verifier, st: VState, imm: number, pc: number): number {
  if (st.lock) reject('LOCK', 'function calls are not allowed while holding a lock');
  const target = pc + 1 + imm;
  pushFrame(v, st, pc, target, cur(st).regs.slice(1, 6), null);
  return target;
}

/** exit handles `exit`: returns the pc to continue at, or null when the path ends (main program exit). */
export function exit(v: Verifier, st: VState): number | null {
  const f = cur(st);
  const r0 = f.regs[0];
  // a subprogram may leave R0 unset (its caller then may not read it); callbacks and the program may not
  if (st.frames.length > 1 && !f.callback) return frameExit(v, st, r0);
  if (r0.type === RegType.NOT_INIT) reject('UNINIT_REG', 'R0 !read_ok');
  if (st.frames.length > 1) return frameExit(v, st, r0);
  if (st.refs.length) reject('UNRELEASED_REFERENCE', `Unreleased reference id=${st.refs[0].id} alloc_insn=${st.refs[0].insn}`);
  if (st.lock) reject('LOCK', 'bpf_spin_unlock is missing');
  if (v.info.scalarReturn && r0.type !== RegType.SCALAR) {
    reject('RET_NOT_SCALAR', `At program exit the register R0 is not a known value (${typeName(r0)})`);
  }
  return null;
}

function frameExit(v: Verifier, st: VState, r0: Reg): number {
  const f = cur(st);
  if (f.callback) {
    if (r0.type !== RegType.SCALAR || r0.s.umax > 1n) {
      reject('CALLBACK_RET', `At callback return the register R0 has ${r0.type === RegType.SCALAR ? `umax=${r0.s.umax}` : typeName(r0)} should have been in [0, 1]`);
    }
  } else if (r0.type === RegType.PTR_TO_STACK && r0.frame === st.frames.length - 1) {
    reject('RET_STACK_PTR', 'cannot return stack pointer to the caller');
  }
  st.frames.pop();
  const caller = cur(st);
  const cb = f.callback;
  if (cb) {
    const again = copyState(st);
    pushFrame(v, again, cb.helperPc, cb.entry, cb.args, cb);
    v.push(again, cb.entry, cb.helperPc);
    caller.regs[0] = UNKNOWN_REG;
    return cb.helperPc + 1;
  }
  caller.regs[0] = r0;
  for (let r = 1; r <= 5; r++) caller.regs[r] = NOT_INIT_REG;
  return f.callsite + 1;
}
