/**
 * Memory accesses (the kernel's check_mem_access): loads, stores and atomics through each
 * kind of pointer — stack, context, map value, memory, packet — with the bounds, alignment,
 * initialisation and permission rules of each; and the same checks for helper arguments
 * that point to memory of a (possibly variable) size.
 */
import { reject } from './codes.js';
import { ctxAccess } from './ctx.js';
import { RegType, isPointer, ptrReg, typeName, type Reg } from './reg.js';
import { isConst, type Scalar } from './scalar.js';
import { loadedScalar, stackCheckInit, stackClobber, stackRead, stackWrite } from './stack.js';
import { cur, type VState } from './state.js';
import type { Verifier } from './verifier.js';
import { tAdd, tConst, tStr } from './tnum.js';

/** BPF_MAX_VAR_OFF bounds variable offsets (1 << 29), as in the kernel. */
export const BPF_MAX_VAR_OFF = 1 << 29;

/** Access is one memory access: base register, fixed offset from the instruction, size, direction. */
export interface Access {
  regno: number;
  off: number;
  size: number;
  write: boolean;
  /** stored register or immediate (as a scalar register) for writes */
  value?: Reg;
  /** BPF_ST (immediate store) */
  imm?: boolean;
  /** sign-extending load */
  sx?: boolean;
  atomic?: boolean;
}

const num = (x: bigint): number => Number(x);

/** access checks a load/store and returns what a load produces (undefined for stores). */
export function access(v: Verifier, st: VState, a: Access): Reg | undefined {
  const reg = v.readReg(st, a.regno);
  if (reg.type === RegType.SCALAR) reject('INVALID_MEM_ACCESS', `R${a.regno} invalid mem access 'scalar'`);
  if (reg.nullable) reject('NULL_POINTER', `R${a.regno} invalid mem access '${typeName(reg)}'`);
  if (a.atomic && (reg.type === RegType.PTR_TO_MAP_VALUE || reg.type === RegType.PTR_TO_MEM) && !aligned(reg, a.off, a.size)) {
    // the kernel is strict about the alignment of atomics wherever they point (WebAssembly traps too)
    reject('INVALID_ATOMIC', `misaligned ${typeName(reg)} access off ${tStr(reg.s.t)}+${reg.off}+${a.off} size ${a.size}`);
  }
  switch (reg.type) {
    case RegType.PTR_TO_STACK: return stackAccess(v, st, reg, a);
    case RegType.PTR_TO_CTX: return ctxMem(v, reg, a);
    case RegType.PTR_TO_MAP_VALUE:
      regionAccess(reg, a, reg.map!.info.valueSize, (o, s) =>
        `invalid access to map value, value_size=${reg.map!.info.valueSize} off=${o} size=${s}`, 'MAP_VALUE_OUT_OF_BOUNDS');
      noLockAccess(reg, reg.off + a.off, a.size);
      return a.write ? undefined : loadedScalar(a.size, !!a.sx);
    case RegType.PTR_TO_MAP_KEY:
      if (a.write) reject('INVALID_MEM_ACCESS', `R${a.regno} cannot write into map_key`);
      regionAccess(reg, a, reg.map!.info.keySize, (o, s) =>
        `invalid access to map key, key_size=${reg.map!.info.keySize} off=${o} size=${s}`, 'MAP_VALUE_OUT_OF_BOUNDS');
      return loadedScalar(a.size, !!a.sx);
    case RegType.PTR_TO_MEM:
      regionAccess(reg, a, reg.size, (o, s) => `invalid access to memory, mem_size=${reg.size} off=${o} size=${s}`, 'MEM_OUT_OF_BOUNDS');
      return a.write ? undefined : loadedScalar(a.size, !!a.sx);
    case RegType.PTR_TO_PACKET:
    case RegType.PTR_TO_PACKET_META:
      packetAccess(v, reg, a);
      return a.write ? undefined : loadedScalar(a.size, !!a.sx);
    default:
      return reject('INVALID_MEM_ACCESS', `R${a.regno} invalid mem access '${typeName(reg)}'`);
  }
}

/** varBounds rejects variable offsets that are unbounded or may be negative. */
function varBounds(reg: Reg, regno: number, fixed: number): void {
  if (isConst(reg.s)) return;
  if (reg.s.smin < 0n && fixed + num(reg.s.smin) < 0) {
    reject('NEGATIVE_MIN', `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  }
  if (reg.s.umax >= BigInt(BPF_MAX_VAR_OFF)) {
    reject('UNBOUNDED_MEM_ACCESS', `R${regno} unbounded memory access, make sure to bounds check any such access`);
  }
}

/**
 * noLockAccess refuses loads, stores and helper accesses that may touch the bpf_spin_lock of
 * a map value (check_map_access): only bpf_spin_lock/unlock may use it.
 */
function noLockAccess(reg: Reg, fixed: number, size: number): void {
  const p = reg.map!.info.spinLockOff;
  if (p === undefined || size === 0) return;
  const c = isConst(reg.s);
  const lo = fixed + num(c ? BigInt.asIntN(64, reg.s.t.v) : reg.s.smin);
  const hi = fixed + num(c ? BigInt.asIntN(64, reg.s.t.v) : reg.s.umax) + size;
  if (lo < p + 4 && p < hi) reject('LOCK', 'bpf_spin_lock cannot be accessed directly by load/store');
}

/** regionAccess checks [off + var, off + var + size) against a region of `limit` bytes. */
function regionAccess(reg: Reg, a: Access, limit: number, msg: (off: number, size: number) => string,
  code: 'MAP_VALUE_OUT_OF_BOUNDS' | 'MEM_OUT_OF_BOUNDS'): void {
  checkRegion(reg, a.regno, reg.off + a.off, a.size, a.size, limit, msg, code);
}

function checkRegion(reg: Reg, regno: number, fixed: number, sizeMin: number, sizeMax: number, limit: number,
  msg: (off: number, size: number) => string, code: 'MAP_VALUE_OUT_OF_BOUNDS' | 'MEM_OUT_OF_BOUNDS'): void {
  varBounds(reg, regno, fixed);
  const c = isConst(reg.s);
  const lo = fixed + num(c ? BigInt.asIntN(64, reg.s.t.v) : reg.s.smin);
  const hi = fixed + num(c ? BigInt.asIntN(64, reg.s.t.v) : reg.s.umax);
  if (lo < 0) reject(code, msg(lo, sizeMin));
  if (hi + sizeMax > limit) reject(code, msg(hi, sizeMax));
}

function packetAccess(v: Verifier, reg: Reg, a: Access): void {
  if (a.write ? !v.info.packetWrite : !v.info.packetRead) {
    reject('PKT_ACCESS', a.write ? 'cannot write into packet' : 'invalid access to packet');
  }
  if (a.atomic) reject('INVALID_ATOMIC', `BPF_ATOMIC stores into R${a.regno} ${typeName(reg)} is not allowed`);
  checkPacket(reg, a.regno, reg.off + a.off, a.size);
}

function checkPacket(reg: Reg, regno: number, fixed: number, size: number): void {
  if (reg.s.smin < 0n) {
    reject('NEGATIVE_MIN', `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  }
  if (fixed < 0 || fixed + size > reg.range) {
    reject('PKT_OUT_OF_BOUNDS', `invalid access to packet, off=${fixed} size=${size}, R${regno}(id=${reg.id},off=${reg.off},r=${reg.range}) `
      + `R${regno} offset is outside of the packet`);
  }
}

function ctxMem(v: Verifier, reg: Reg, a: Access): Reg | undefined {
  if (a.atomic) reject('INVALID_ATOMIC', `BPF_ATOMIC stores into R${a.regno} ctx is not allowed`);
  if (reg.off !== 0 || !isConst(reg.s) || reg.s.t.v !== 0n) {
    reject('MODIFIED_CTX', `dereference of modified ctx ptr R${a.regno} off=${reg.off} disallowed`);
  }
  const layout = v.info.ctx;
  const t = layout ? ctxAccess(v.progType, layout, a.off, a.size, a.write) : null;
  if (t === null) reject('CTX_ACCESS', `invalid bpf_context access off=${a.off} size=${a.size}`);
  if (a.write) return undefined;
  if (t === RegType.SCALAR) return loadedScalar(a.size, !!a.sx);
  if (a.sx) reject('CTX_ACCESS', `invalid bpf_context access off=${a.off} size=${a.size}`);
  return ptrReg(t);
}

/** stackTarget finds the frame a stack pointer points into. */
function stackFrame(st: VState, reg: Reg): { frame: ReturnType<typeof cur>; own: boolean } {
  return { frame: st.frames[reg.frame], own: reg.frame === st.frames.length - 1 };
}

/** aligned tells whether an access of `size` bytes at `off` from the pointer is aligned for every value of its offset. */
function aligned(reg: Reg, off: number, size: number): boolean {
  const t = tAdd(reg.s.t, tConst(BigInt(reg.off + off)));
  return ((t.v | t.m) & BigInt(size - 1)) === 0n;
}

function checkAligned(reg: Reg, regno: number, off: number, size: number): void {
  if (!aligned(reg, off, size)) {
    reject('MISALIGNED_STACK', `misaligned stack access off ${tStr(reg.s.t)}+${reg.off}+${off} size ${size}`);
  }
}

function stackAccess(v: Verifier, st: VState, reg: Reg, a: Access): Reg | undefined {
  checkAligned(reg, a.regno, a.off, a.size);
  const { frame, own } = stackFrame(st, reg);
  const range = stackRange(reg, a.regno, a.off, a.size, a.size, a.write);
  v.noteStack(st, reg.frame, range.lo);
  if (range.fixed) {
    const off = range.lo;
    if (a.atomic) {
      stackCheckInit(frame, a.regno, off, off + a.size);
      // the read half of the atomic: a partial spilled pointer is an invalid fill, and a whole
      // one must not be turned into a scalar by arithmetic (the kernel refuses both)
      if (isPointer(stackRead(frame, a.regno, off, a.size, false))) {
        reject('INVALID_ATOMIC', `BPF_ATOMIC on a spilled pointer at fp${off} is not allowed`);
      }
      stackClobber(frame, off, off + a.size, true);
      return loadedScalar(a.size, false);
    }
    if (a.write) {
      stackWrite(frame, off, a.size, a.value!, own);
      return undefined;
    }
    return stackRead(frame, a.regno, off, a.size, !!a.sx);
  }
  if (!a.write || a.atomic) stackCheckInit(frame, a.regno, range.lo, range.hi);
  if (a.write) stackClobber(frame, range.lo, range.hi, false);
  return a.write && !a.atomic ? undefined : loadedScalar(a.size, !!a.sx && !a.atomic);
}

/** stackRange is the byte range [lo, hi) an access of `size` bytes through a stack pointer may touch. */
function stackRange(reg: Reg, regno: number, off: number, sizeMin: number, sizeMax: number, write: boolean):
  { lo: number; hi: number; fixed: boolean } {
  const s: Scalar = reg.s;
  const dir = write ? 'write to' : 'read from';
  if (isConst(s)) {
    const lo = reg.off + off + num(BigInt.asIntN(64, s.t.v));
    if (lo < -512 || lo + sizeMax > 0 || lo >= 0) reject('STACK_OUT_OF_BOUNDS', `invalid ${dir} stack R${regno} off=${lo} size=${sizeMax}`);
    return { lo, hi: lo + sizeMax, fixed: true };
  }
  if (s.smin <= -BigInt(BPF_MAX_VAR_OFF) || s.smax >= BigInt(BPF_MAX_VAR_OFF)) {
    reject('UNBOUNDED_MEM_ACCESS', `invalid unbounded variable-offset ${dir} stack R${regno}`);
  }
  const lo = reg.off + off + num(s.smin);
  const hi = reg.off + off + num(s.smax) + sizeMax;
  if (lo < -512 || hi > 0) {
    reject('STACK_OUT_OF_BOUNDS', `invalid variable-offset ${dir} stack R${regno} var_off=${tStr(s.t)} off=${off} size=${sizeMax}`);
  }
  void sizeMin;
  return { lo, hi, fixed: false };
}

/** MemArg is a helper's memory argument: pointer register, size range, direction. */
export interface MemArg { regno: number; sizeMin: number; sizeMax: number; write: boolean; what: string }

/**
 * helperMem checks that a helper may read (or write) sizeMax bytes at the pointer in
 * `regno` (check_helper_mem_access), and records what a write does to the stack.
 */
export function helperMem(v: Verifier, st: VState, m: MemArg): void {
  const reg = v.readReg(st, m.regno);
  // a zero size still needs a valid pointer: the kernel checks the bounds with size 0 (a stack
  // pointer at or above the frame top is refused)
  if (reg.nullable) reject('HELPER_ARG', `R${m.regno} type=${typeName(reg)} expected=fp, pkt, map_value, mem`);
  switch (reg.type) {
    case RegType.PTR_TO_STACK: {
      const frame = st.frames[reg.frame];
      const r = stackRange(reg, m.regno, 0, m.sizeMin, m.sizeMax, m.write);
      v.noteStack(st, reg.frame, r.lo);
      if (m.write) stackClobber(frame, r.lo, r.hi, r.fixed && m.sizeMin === m.sizeMax);
      else stackCheckInit(frame, m.regno, r.lo, r.hi, `indirect ${m.what}`);
      return;
    }
    case RegType.PTR_TO_MAP_VALUE:
      checkRegion(reg, m.regno, reg.off, m.sizeMin, m.sizeMax, reg.map!.info.valueSize, (o, s) =>
        `invalid access to map value, value_size=${reg.map!.info.valueSize} off=${o} size=${s}`, 'MAP_VALUE_OUT_OF_BOUNDS');
      noLockAccess(reg, reg.off, m.sizeMax);
      return;
    case RegType.PTR_TO_MAP_KEY:
      if (m.write) break;
      checkRegion(reg, m.regno, reg.off, m.sizeMin, m.sizeMax, reg.map!.info.keySize, (o, s) =>
        `invalid access to map key, key_size=${reg.map!.info.keySize} off=${o} size=${s}`, 'MAP_VALUE_OUT_OF_BOUNDS');
      return;
    case RegType.PTR_TO_MEM:
      checkRegion(reg, m.regno, reg.off, m.sizeMin, m.sizeMax, reg.size, (o, s) =>
        `invalid access to memory, mem_size=${reg.size} off=${o} size=${s}`, 'MEM_OUT_OF_BOUNDS');
      return;
    case RegType.PTR_TO_PACKET:
    case RegType.PTR_TO_PACKET_META:
      if (m.write ? !v.info.packetWrite : !v.info.packetRead) reject('PKT_ACCESS', 'helper access to the packet is not allowed');
      checkPacket(reg, m.regno, reg.off, m.sizeMax);
      return;
    default:
      break;
  }
  reject('HELPER_ARG', `R${m.regno} type=${isPointer(reg) || reg.type === RegType.SCALAR ? typeName(reg) : '?'} expected=fp, pkt, map_value, mem`);
}
