/**
 * The verifier log, in the kernel's style. Level 1: the instructions of the path that
 * failed (or, on success, the statistics line). Level 2: every processed instruction with
 * the registers it wrote (`0: (b7) r0 = 0 ; R0_w=0`), branch switches (`from 4 to 7:`) and
 * pruned paths (`7: safe`). The log is capped so a huge exploration cannot exhaust memory.
 */
import { formatInsn } from '../asm/format.js';
import type { Program } from '../isa/instruction.js';
import { formatReg, type Reg } from './reg.js';
import type { Frame, Trail } from './state.js';

/** MAX_LOG_LINES caps the level-2 log. */
export const MAX_LOG_LINES = 200_000;

/** insnLine prints `pc: (code) text` like the kernel's print_bpf_insn. */
export function insnLine(prog: Program, pc: number): string {
  return `${pc}: (${prog[pc].code.toString(16).padStart(2, '0')}) ${formatInsn(prog, pc)}`;
}

/** regsLine prints the registers of `f` that differ from `before` (or all initialised ones): ` R0_w=0 R1=ctx()`. */
export function regsLine(f: Frame, before: Reg[] | null): string {
  const parts: string[] = [];
  for (let r = 0; r < 11; r++) {
    const reg = f.regs[r];
    if (before ? before[r] === reg : reg.type === 0) continue;
    parts.push(`R${r}${before ? '_w' : ''}=${formatReg(reg)}`);
  }
  return parts.join(' ');
}

/** trailLines lists the instructions of a path, oldest first. */
export function trailLines(prog: Program, t: Trail | null): string[] {
  const pcs: number[] = [];
  for (let n = t; n; n = n.prev) pcs.push(n.pc);
  return pcs.reverse().map((pc) => insnLine(prog, pc));
}

/** Log collects log lines up to the cap. */
export class Log {
  readonly lines: string[] = [];
  private dropped = 0;
  constructor(readonly level: number) {}
  /** add appends a line (dropped past the cap). */
  add(line: string): void {
    if (this.lines.length < MAX_LOG_LINES) this.lines.push(line);
    else this.dropped++;
  }
  /** text is the whole log. */
  text(): string {
    const tail = this.dropped ? [`... ${this.dropped} more lines dropped`] : [];
    return [...this.lines, ...tail].join('\n');
  }
}
