/**
 * The disassembler: llvm-objdump's BPF syntax (the kernel's "pseudo-C"), e.g. `r0 = 1`,
 * `if w1 s> -1 goto +3`, `*(u32 *)(r10 - 8) = r1`. By default numbers are decimal like
 * llvm-objdump 14; `hex` gives the `--print-imm-hex` spelling newer LLVM uses by default.
 * Where LLVM's text loses information (local vs helper calls, the high half of pseudo
 * lddw, LD_IND's imm) we print a lossless extension unless `llvmCompat` is set, and a
 * slot the syntax cannot express (unknown opcode, nonzero unused field) is printed as
 * `.byte` so that assembling the text always gives back the same bytes.
 */
import { Insn, Program, isLddw, lddwValue, encode } from '../isa/instruction.js';
import { checkInsn, jumpTarget } from '../isa/validate.js';
import * as o from '../isa/opcodes.js';
import { isCanonical } from './canonical.js';
import { ALU_OPERATORS, ATOMIC_NAMES, JMP_OPERATORS, SIGNED_ALU_OPERATORS, SIZE_BITS } from './syntax.js';

/** DisasmOptions tunes the disassembly text. */
export interface DisasmOptions {
  /** Print immediates and offsets in hex (`0x5`, `-0x8`), like llvm-objdump --print-imm-hex (LLVM >= 15 default). */
  hex?: boolean;
  /** Use w registers for sub-64-bit loads/stores and 32-bit atomics, like llvm-objdump --mattr=+alu32. */
  alu32?: boolean;
  /** Reproduce LLVM's lossy spellings exactly: `call N` for every call, `ld_pseudo` low half only, `skb[rN]`. */
  llvmCompat?: boolean;
  /** Emit `L<n>:` label lines before jump targets and use the labels in jumps and local calls. */
  labels?: boolean;
  /** Prefix lines like llvm-objdump -d: slot number, tab, instruction bytes, tab. */
  bytes?: boolean;
}

/** disassemble prints a program one instruction per line (a 16-byte `lddw` is one line). */
export function disassemble(prog: Program, opts: DisasmOptions = {}): string[] {
  const labels = opts.labels ? collectLabels(prog) : undefined;
  const out: string[] = [];
  for (let pc = 0; pc < prog.length; pc += slotCount(prog, pc)) {
    if (labels?.has(pc)) out.push(`${labels.get(pc)}:`);
    const text = formatAt(prog, pc, opts, labels);
    out.push(opts.bytes ? objdumpPrefix(prog, pc) + text : text);
  }
  return out;
}

/** formatInsn prints the instruction at slot `pc` (both slots of a `lddw`). */
export function formatInsn(prog: Program, pc: number, opts: DisasmOptions = {}): string {
  return formatAt(prog, pc, opts, undefined);
}

/** slotCount is 2 for a well-formed `lddw` at `pc`, else 1. */
export function slotCount(prog: Program, pc: number): number {
  return isLddw(prog[pc]) && validSecondHalf(prog[pc + 1]) ? 2 : 1;
}

function validSecondHalf(i: Insn | undefined): boolean {
  return i !== undefined && i.code === 0 && i.dst === 0 && i.src === 0 && i.off === 0;
}

/** collectLabels names the jump targets that start a printed line (not the middle of lddw). */
function collectLabels(prog: Program): Map<number, string> {
  const starts = new Set<number>();
  for (let pc = 0; pc < prog.length; pc += slotCount(prog, pc)) starts.add(pc);
  const targets = new Set<number>();
  for (const pc of starts) {
    const t = printable(prog, pc) ? jumpTarget(prog[pc], pc) : null;
    if (t !== null && starts.has(t)) targets.add(t);
  }
  return new Map([...targets].sort((a, b) => a - b).map((t) => [t, `L${t}`]));
}

function objdumpPrefix(prog: Program, pc: number): string {
  const bytes = encode(prog.slice(pc, pc + slotCount(prog, pc)));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `${String(pc).padStart(8)}:\t${hex}\t`;
}

/** printable: the syntax can express this slot exactly. */
function printable(prog: Program, pc: number): boolean {
  const i = prog[pc];
  if (checkInsn(i) !== null || !isCanonical(i)) return false;
  return !isLddw(i) || validSecondHalf(prog[pc + 1]);
}

function formatAt(prog: Program, pc: number, opts: DisasmOptions, labels?: Map<number, string>): string {
  const i = prog[pc];
  if (!printable(prog, pc)) return rawBytes(i);
  const p = new Printer(opts, pc, labels);
  switch (o.BPF_CLASS(i.code)) {
    case o.BPF_ALU:
    case o.BPF_ALU64:
      return p.alu(i);
    case o.BPF_JMP:
    case o.BPF_JMP32:
      return p.jmp(i);
    case o.BPF_LD:
      return p.ld(prog, pc);
    case o.BPF_LDX:
      return p.ldx(i);
    case o.BPF_ST:
      return `*(u${SIZE_BITS.get(o.BPF_SIZE(i.code))} *)(${p.mem(i.dst, i.off)}) = ${p.num(i.imm)}`;
    default:
      return p.stx(i);
  }
}

/** rawBytes prints one slot as an assembler `.byte` directive. */
function rawBytes(i: Insn): string {
  return '.byte ' + Array.from(encode([i]), (b) => '0x' + b.toString(16).padStart(2, '0')).join(', ');
}

class Printer {
  constructor(private opts: DisasmOptions, private pc: number, private labels?: Map<number, string>) {}

  num(n: number | bigint): string {
    if (!this.opts.hex) return n.toString();
    return n < 0 ? `-0x${(-BigInt(n)).toString(16)}` : `0x${n.toString(16)}`;
  }

  signed(n: number): string {
    return (n >= 0 ? '+' : '') + this.num(n);
  }

  mem(reg: number, off: number): string {
    return off >= 0 ? `r${reg} + ${this.num(off)}` : `r${reg} - ${this.num(-off)}`;
  }

  target(off: number): string {
    return this.labels?.get(this.pc + 1 + off) ?? this.signed(off);
  }

  alu(i: Insn): string {
    const w = o.BPF_CLASS(i.code) === o.BPF_ALU64 ? 'r' : 'w';
    const d = `${w}${i.dst}`;
    const x = o.BPF_SRC(i.code) === o.BPF_X;
    const s = x ? `${w}${i.src}` : this.num(i.imm);
    const op = o.BPF_OP(i.code);
    if (op === o.BPF_NEG) return `${d} = -${d}`;
    if (op === o.BPF_END) return `r${i.dst} = ${endName(i)}${i.imm} r${i.dst}`;
    if (op === o.BPF_MOV) return i.off ? `${d} = (s${i.off})${s}` : `${d} = ${s}`;
    const sym = i.off === 1 ? SIGNED_ALU_OPERATORS.get(op) : ALU_OPERATORS.get(op);
    return `${d} ${sym} ${s}`;
  }

  jmp(i: Insn): string {
    const op = o.BPF_OP(i.code);
    const is32 = o.BPF_CLASS(i.code) === o.BPF_JMP32;
    if (op === o.BPF_EXIT) return 'exit';
    if (op === o.BPF_CALL) return this.call(i);
    if (op === o.BPF_JA) return is32 ? `gotol ${this.target(i.imm)}` : `goto ${this.target(i.off)}`;
    const w = is32 ? 'w' : 'r';
    const s = o.BPF_SRC(i.code) === o.BPF_X ? `${w}${i.src}` : this.num(i.imm);
    return `if ${w}${i.dst} ${JMP_OPERATORS.get(op)} ${s} goto ${this.target(i.off)}`;
  }

  call(i: Insn): string {
    if (o.BPF_SRC(i.code) === o.BPF_X) return `callx r${i.dst}`;
    if (i.src === o.BPF_PSEUDO_CALL && !this.opts.llvmCompat) {
      const label = this.labels?.get(this.pc + 1 + i.imm);
      return label ? `call ${label}` : `call pc${this.signed(i.imm)}`;
    }
    if (i.src === o.BPF_PSEUDO_KFUNC_CALL && !this.opts.llvmCompat) return `call kfunc ${this.num(i.imm)}`;
    return `call ${this.num(i.imm)}`;
  }

  ld(prog: Program, pc: number): string {
    const i = prog[pc];
    const bits = SIZE_BITS.get(o.BPF_SIZE(i.code));
    const mode = o.BPF_MODE(i.code);
    if (mode === o.BPF_ABS) return `r0 = *(u${bits} *)skb[${this.num(i.imm)}]`;
    if (mode === o.BPF_IND) {
      const idx = i.imm === 0 || this.opts.llvmCompat ? `r${i.src}` : this.mem(i.src, i.imm);
      return `r0 = *(u${bits} *)skb[${idx}]`;
    }
    const value = lddwValue(prog, pc);
    if (i.src === 0) return `r${i.dst} = ${this.num(BigInt.asIntN(64, value))} ll`;
    const shown = this.opts.llvmCompat ? BigInt(i.imm) : value;
    return `ld_pseudo r${i.dst}, ${this.num(i.src)}, ${this.num(shown)}`;
  }

  ldx(i: Insn): string {
    const size = o.BPF_SIZE(i.code);
    const sx = o.BPF_MODE(i.code) === o.BPF_MEMSX;
    const w = this.opts.alu32 && size !== o.BPF_DW && !sx ? 'w' : 'r';
    return `${w}${i.dst} = *(${sx ? 's' : 'u'}${SIZE_BITS.get(size)} *)(${this.mem(i.src, i.off)})`;
  }

  stx(i: Insn): string {
    const size = o.BPF_SIZE(i.code);
    const bits = SIZE_BITS.get(size);
    const addr = this.mem(i.dst, i.off);
    const w = this.opts.alu32 && size !== o.BPF_DW ? 'w' : 'r';
    if (o.BPF_MODE(i.code) === o.BPF_MEM) return `*(u${bits} *)(${addr}) = ${w}${i.src}`;
    return this.atomic(i, size === o.BPF_DW, addr, w);
  }

  atomic(i: Insn, is64: boolean, addr: string, w: string): string {
    const v = is64 ? 'r' : 'w';
    if (i.imm === o.BPF_XCHG) return is64 ? `r${i.src} = xchg_64(${addr}, r${i.src})` : `w${i.src} = xchg32_32(${addr}, w${i.src})`;
    if (i.imm === o.BPF_CMPXCHG) return is64 ? `r0 = cmpxchg_64(${addr}, r0, r${i.src})` : `w0 = cmpxchg32_32(${addr}, w0, w${i.src})`;
    const name = ATOMIC_NAMES.get(i.imm & ~o.BPF_FETCH);
    const bits = is64 ? 64 : 32;
    if (i.imm & o.BPF_FETCH) return `${v}${i.src} = atomic_fetch_${name}((u${bits} *)(${addr}), ${v}${i.src})`;
    // Only 32-bit add has an r-register spelling in LLVM's default (non-alu32) decoder.
    const reg = is64 || (i.imm === o.BPF_ADD && w === 'r') ? 'r' : 'w';
    return `lock *(u${bits} *)(${addr}) ${ALU_OPERATORS.get(i.imm)} ${reg}${i.src}`;
  }
}

function endName(i: Insn): string {
  if (o.BPF_CLASS(i.code) === o.BPF_ALU64) return 'bswap';
  return o.BPF_SRC(i.code) === o.BPF_TO_BE ? 'be' : 'le';
}
