/**
 * cbpf -> eBPF: converts a classic program into an eBPF program with the kernel's semantics,
 * so it runs on any tsbpf engine and agrees with the reference interpreter (runCbpf).
 *
 * Calling convention of the converted program:
 *   r1 = address of the packet bytes, r2 = captured length, r3 = wire length (raised to at
 *   least r2, so 0 means "same as captured"), r4 = address of a meta block (encodeMeta) or 0.
 * This is compatible with runRaw (r1 = data, r2 = length). No helpers are called.
 *
 * Registers: A = r0, X = r7, packet = r6, caplen = r8, wirelen = r9, meta = r5; r1..r3 are
 * scratch. M[0..15] live in the stack at r10-64. Packet loads are explicitly bounds-checked
 * and jump to a shared "return 0" exit when out of range, as are divisions by a zero X.
 */
import { BpfError } from '../errors.js';
import { insn } from '../isa/instruction.js';
import type { Insn, Program } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import * as c from './opcodes.js';
import type { CbpfProgram, SockFilter } from './opcodes.js';
import { checkCbpf, scratchUse } from './check.js';

const A = o.R0, X = o.R7, PKT = o.R6, CAPLEN = o.R8, WIRELEN = o.R9, META = o.R5;
const T1 = o.R1, T2 = o.R2;
/** SCRATCH_BASE is the stack offset of M[0] from r10. */
const SCRATCH_BASE = -64;

type Target = { pc: number } | { label: string };

/** Emitter collects instructions and resolves forward jumps to classic pcs and local labels. */
class Emitter {
  readonly out: Insn[] = [];
  readonly starts: number[] = [];
  private labels = new Map<string, number>();
  private fixups: { at: number; target: Target }[] = [];

  emit(...ins: Insn[]): void {
    this.out.push(...ins);
  }

  jump(code: number, dst: number, src: number, imm: number, target: Target): void {
    this.fixups.push({ at: this.out.length, target });
    this.out.push(insn(code, dst, src, 0, imm));
  }

  label(name: string): void {
    this.labels.set(name, this.out.length);
  }

  resolve(): Program {
    for (const { at, target } of this.fixups) {
      const dest = 'pc' in target ? this.starts[target.pc] : this.labels.get(target.label);
      if (dest === undefined) throw new BpfError('EINVAL', 'internal: unresolved jump in cbpf conversion', { insn: at });
      const off = dest - at - 1;
      if (off > 32767) throw new BpfError('E2BIG', 'converted program too large for 16-bit jump offsets', { insn: at });
      this.out[at] = { ...this.out[at], off };
    }
    return this.out;
  }
}

const RET0: Target = { label: 'ret0' };
const JA = o.BPF_JMP | o.BPF_JA;
const alu32 = (op: number, src: number): number => o.BPF_ALU | op | src;
const alu64 = (op: number, src: number): number => o.BPF_ALU64 | op | src;
const jmp32 = (op: number, src: number): number => o.BPF_JMP32 | op | src;
const jmp64 = (op: number, src: number): number => o.BPF_JMP | op | src;

/** ConvertOptions tune the conversion. */
export interface ConvertOptions {
  /** skip checkCbpf (the caller already checked) */
  unchecked?: boolean;
}

/** convertCbpf converts a classic program to eBPF (checking it first with the kernel's rules). */
export function convertCbpf(prog: CbpfProgram, opts: ConvertOptions = {}): Program {
  if (!opts.unchecked) checkCbpf(prog);
  const e = new Emitter();
  prologue(e, prog);
  prog.forEach((i, pc) => {
    e.starts[pc] = e.out.length;
    convertOne(e, i, pc);
  });
  e.label('ret0');
  e.emit(insn(alu32(o.BPF_MOV, o.BPF_K), A, 0, 0, 0), insn(o.BPF_JMP | o.BPF_EXIT));
  return e.resolve();
}

function prologue(e: Emitter, prog: CbpfProgram): void {
  const mov64 = alu64(o.BPF_MOV, o.BPF_X);
  e.emit(insn(mov64, PKT, o.R1), insn(mov64, CAPLEN, o.R2), insn(mov64, WIRELEN, o.R3), insn(mov64, META, o.R4));
  // wire length is never below the captured length (and 0 from runRaw means "unknown")
  e.emit(insn(jmp64(o.BPF_JGE, o.BPF_X), WIRELEN, CAPLEN, 1, 0), insn(mov64, WIRELEN, CAPLEN));
  e.emit(insn(alu32(o.BPF_MOV, o.BPF_K), A), insn(alu32(o.BPF_MOV, o.BPF_K), X));
  // scratch slots start at zero, like the interpreter's (the checker forbids reading them earlier anyway)
  const used = new Set(prog.map(scratchUse).filter((u) => u !== null).map((u) => u!.slot));
  for (const s of used) e.emit(insn(o.BPF_ST | o.BPF_MEM | o.BPF_W, o.R10, 0, SCRATCH_BASE + 4 * s, 0));
}

function convertOne(e: Emitter, i: SockFilter, pc: number): void {
  const k = i.k >>> 0;
  switch (c.BPF_CLASS(i.code)) {
    case c.BPF_LD: return convertLd(e, i, pc, A);
    case c.BPF_LDX: return convertLd(e, i, pc, X);
    case c.BPF_ST: return e.emit(insn(o.BPF_STX | o.BPF_MEM | o.BPF_W, o.R10, A, SCRATCH_BASE + 4 * (k & 15)));
    case c.BPF_STX: return e.emit(insn(o.BPF_STX | o.BPF_MEM | o.BPF_W, o.R10, X, SCRATCH_BASE + 4 * (k & 15)));
    case c.BPF_ALU: return convertAlu(e, i);
    case c.BPF_JMP: return convertJmp(e, i, pc);
    case c.BPF_RET:
      if (c.BPF_RVAL(i.code) !== c.BPF_A) e.emit(insn(alu32(o.BPF_MOV, o.BPF_K), A, 0, 0, k | 0));
      return e.emit(insn(o.BPF_JMP | o.BPF_EXIT));
    default:
      if (c.BPF_MISCOP(i.code) === c.BPF_TAX) return e.emit(insn(alu32(o.BPF_MOV, o.BPF_X), X, A));
      return e.emit(insn(alu32(o.BPF_MOV, o.BPF_X), A, X));
  }
}

function convertAlu(e: Emitter, i: SockFilter): void {
  const op = c.BPF_OP(i.code);
  if (op === c.BPF_NEG) return e.emit(insn(alu32(o.BPF_NEG, o.BPF_K), A));
  if (c.BPF_SRC(i.code) === c.BPF_X) {
    if (op === c.BPF_DIV || op === c.BPF_MOD) e.jump(jmp32(o.BPF_JEQ, o.BPF_K), X, 0, 0, RET0);
    return e.emit(insn(alu32(op, o.BPF_X), A, X));
  }
  const k = i.k >>> 0;
  if ((op === c.BPF_DIV || op === c.BPF_MOD) && k === 0) return e.jump(JA, 0, 0, 0, RET0);
  e.emit(insn(alu32(op, o.BPF_K), A, 0, 0, op === c.BPF_LSH || op === c.BPF_RSH ? k & 31 : k | 0));
}

/** NEGATED maps a jump op to the op taken when it is false (JSET has none). */
const NEGATED = new Map([[o.BPF_JEQ, o.BPF_JNE], [o.BPF_JGT, o.BPF_JLE], [o.BPF_JGE, o.BPF_JLT]]);

function convertJmp(e: Emitter, i: SockFilter, pc: number): void {
  const op = c.BPF_OP(i.code);
  if (op === c.BPF_JA) return e.jump(JA, 0, 0, 0, { pc: pc + 1 + (i.k >>> 0) });
  const x = c.BPF_SRC(i.code) === c.BPF_X;
  const src = x ? X : 0;
  const imm = x ? 0 : i.k | 0;
  const srcBit = x ? o.BPF_X : o.BPF_K;
  const t = pc + 1 + i.jt;
  const f = pc + 1 + i.jf;
  if (i.jt === i.jf) {
    if (i.jt !== 0) e.jump(JA, 0, 0, 0, { pc: t });
    return;
  }
  if (i.jt === 0) {
    const neg = NEGATED.get(op);
    if (neg !== undefined) return e.jump(jmp32(neg, srcBit), A, src, imm, { pc: f });
    // jset with jt = 0: skip the jump to jf when the test is true
    e.emit(insn(jmp32(op, srcBit), A, src, 1, imm));
    return e.jump(JA, 0, 0, 0, { pc: f });
  }
  e.jump(jmp32(op, srcBit), A, src, imm, { pc: t });
  if (i.jf !== 0) e.jump(JA, 0, 0, 0, { pc: f });
}

function sizeCode(code: number): number {
  return c.BPF_SIZE(code);
}

function bytesOf(code: number): number {
  const s = c.BPF_SIZE(code);
  return s === c.BPF_B ? 1 : s === c.BPF_H ? 2 : 4;
}

function convertLd(e: Emitter, i: SockFilter, pc: number, dst: number): void {
  const k = i.k >>> 0;
  switch (c.BPF_MODE(i.code)) {
    case c.BPF_IMM: return e.emit(insn(alu32(o.BPF_MOV, o.BPF_K), dst, 0, 0, k | 0));
    case c.BPF_LEN: return e.emit(insn(alu32(o.BPF_MOV, o.BPF_X), dst, WIRELEN));
    case c.BPF_MEM: return e.emit(insn(o.BPF_LDX | o.BPF_MEM | o.BPF_W, dst, o.R10, SCRATCH_BASE + 4 * (k & 15)));
    case c.BPF_ABS: return convertAbs(e, i.code, k, dst);
    case c.BPF_IND: return convertInd(e, i.code, k, pc, dst);
    default: // BPF_MSH: X = 4 * (P[k] & 0xf)
      convertAbs(e, c.BPF_LD | c.BPF_B | c.BPF_ABS, k, X, true);
      e.emit(insn(alu32(o.BPF_AND, o.BPF_K), X, 0, 0, 0xf), insn(alu32(o.BPF_LSH, o.BPF_K), X, 0, 0, 2));
  }
}

/** convertAbs loads from a constant offset: packet, link-layer or network header, or ancillary data. */
function convertAbs(e: Emitter, code: number, k: number, dst: number, noAnc = false): void {
  const s = k | 0;
  const n = bytesOf(code);
  if (s >= 0) return loadConst(e, code, k, n, dst);
  // every negative offset needs metadata (kernel mode); without it the filter returns 0
  e.jump(jmp64(o.BPF_JEQ, o.BPF_K), META, 0, 0, RET0);
  const idx = c.ancillaryIndex(k);
  if (idx >= 0 && !noAnc) return convertAncillary(e, idx, dst);
  if (s >= c.SKF_NET_OFF) {
    e.emit(insn(o.BPF_LDX | o.BPF_MEM | o.BPF_W, T1, META, c.metaOffset('netOffset')));
    e.emit(insn(alu32(o.BPF_ADD, o.BPF_K), T1, 0, 0, s - c.SKF_NET_OFF));
    return loadChecked(e, code, n, dst);
  }
  if (s >= c.SKF_LL_OFF) return loadConst(e, code, s - c.SKF_LL_OFF, n, dst);
  e.jump(JA, 0, 0, 0, RET0);
}

function convertAncillary(e: Emitter, idx: number, dst: number): void {
  if (idx === c.SKF_AD_ALU_XOR_X) return e.emit(insn(alu32(o.BPF_XOR, o.BPF_X), dst, X));
  const field = c.ANCILLARY.get(idx);
  if (field === undefined) return e.jump(JA, 0, 0, 0, RET0);
  e.emit(insn(o.BPF_LDX | o.BPF_MEM | o.BPF_W, dst, META, c.metaOffset(field)));
}

/** loadConst loads n bytes at a constant non-negative packet offset, big-endian, with a bounds check. */
function loadConst(e: Emitter, code: number, k: number, n: number, dst: number): void {
  const end = k + n;
  if (end > 0x7fffffff) return e.jump(JA, 0, 0, 0, RET0);
  e.jump(jmp64(o.BPF_JLT, o.BPF_K), CAPLEN, 0, end, RET0);
  if (k <= 32767) e.emit(insn(o.BPF_LDX | o.BPF_MEM | sizeCode(code), dst, PKT, k));
  else {
    e.emit(insn(alu64(o.BPF_MOV, o.BPF_X), T1, PKT), insn(alu64(o.BPF_ADD, o.BPF_K), T1, 0, 0, k));
    e.emit(insn(o.BPF_LDX | o.BPF_MEM | sizeCode(code), dst, T1, 0));
  }
  swap(e, n, dst);
}

/** loadChecked loads n bytes at the packet offset in T1 (an unsigned 32-bit value), with a bounds check. */
function loadChecked(e: Emitter, code: number, n: number, dst: number): void {
  e.emit(insn(alu64(o.BPF_MOV, o.BPF_X), T2, T1), insn(alu64(o.BPF_ADD, o.BPF_K), T2, 0, 0, n));
  e.jump(jmp64(o.BPF_JGT, o.BPF_X), T2, CAPLEN, 0, RET0);
  e.emit(insn(alu64(o.BPF_ADD, o.BPF_X), T1, PKT), insn(o.BPF_LDX | o.BPF_MEM | sizeCode(code), dst, T1, 0));
  swap(e, n, dst);
}

function swap(e: Emitter, n: number, dst: number): void {
  if (n > 1) e.emit(insn(o.BPF_ALU | o.BPF_END | o.BPF_TO_BE, dst, 0, 0, n * 8));
}

/** convertInd loads at X + k (wrapping to a signed 32-bit offset, as the kernel's helpers take an int). */
function convertInd(e: Emitter, code: number, k: number, pc: number, dst: number): void {
  const n = bytesOf(code);
  const common = `ind${pc}`;
  const ll = `ll${pc}`;
  e.emit(insn(alu32(o.BPF_MOV, o.BPF_X), T1, X));
  if (k !== 0) e.emit(insn(alu32(o.BPF_ADD, o.BPF_K), T1, 0, 0, k | 0));
  e.jump(jmp32(o.BPF_JSGE, o.BPF_K), T1, 0, 0, { label: common });
  e.jump(jmp64(o.BPF_JEQ, o.BPF_K), META, 0, 0, RET0);
  e.jump(jmp32(o.BPF_JSLT, o.BPF_K), T1, 0, c.SKF_NET_OFF, { label: ll });
  e.emit(insn(alu32(o.BPF_ADD, o.BPF_K), T1, 0, 0, -c.SKF_NET_OFF));
  e.emit(insn(o.BPF_LDX | o.BPF_MEM | o.BPF_W, T2, META, c.metaOffset('netOffset')));
  e.emit(insn(alu32(o.BPF_ADD, o.BPF_X), T1, T2));
  e.jump(JA, 0, 0, 0, { label: common });
  e.label(ll);
  e.jump(jmp32(o.BPF_JSLT, o.BPF_K), T1, 0, c.SKF_LL_OFF, RET0);
  e.emit(insn(alu32(o.BPF_ADD, o.BPF_K), T1, 0, 0, -c.SKF_LL_OFF));
  e.label(common);
  loadChecked(e, code, n, dst);
}
