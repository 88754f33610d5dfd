/**
 * Cursor walks the tokens of one statement and parses the operand forms both syntaxes
 * share: registers (`r1`, `w1`, `%r1`), signed numbers with range checks, memory
 * operands and jump targets. Every failure is an E_ASM error naming line and column.
 */
import { BpfError } from '../errors.js';
import { Token, asmError } from './lexer.js';

/** Reg is a parsed register: number, width letter and where it was written. */
export interface Reg { num: number; w: boolean; col: number }

/** Target is a jump target: a numeric offset or a label to resolve later. */
export type Target = { label: string; col: number } | { value: number; col: number };

const INT32 = [-(2n ** 31n), 2n ** 32n - 1n] as const;

/** Cursor is a position in a statement's tokens. */
export class Cursor {
  private i = 0;
  constructor(private toks: Token[], readonly line: number, private endCol: number) {}

  peek(k = 0): Token | undefined {
    return this.toks[this.i + k];
  }

  next(what = 'operand'): Token {
    const t = this.toks[this.i];
    if (!t) throw this.error(`expected ${what} at end of line`);
    this.i++;
    return t;
  }

  get col(): number {
    return this.peek()?.col ?? this.endCol;
  }

  error(message: string, col = this.col): BpfError {
    return asmError(message, this.line, col);
  }

  isOp(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t?.kind === 'op' && t.text === text;
  }

  isId(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t?.kind === 'id' && t.text.toLowerCase() === text;
  }

  eatOp(text: string): boolean {
    if (!this.isOp(text)) return false;
    this.i++;
    return true;
  }

  expectOp(text: string): Token {
    if (!this.isOp(text)) throw this.error(`expected '${text}'${this.found()}`);
    return this.next();
  }

  expectId(text: string): Token {
    if (!this.isId(text)) throw this.error(`expected '${text}'${this.found()}`);
    return this.next();
  }

  expectEnd(): void {
    const t = this.peek();
    if (t) throw this.error(`unexpected '${t.text}'`);
  }

  found(): string {
    const t = this.peek();
    return t ? `, found '${t.text}'` : ' at end of line';
  }

  /** isReg tells whether the token k ahead looks like a register. */
  isReg(k = 0): boolean {
    const t = this.peek(k);
    return t?.kind === 'id' && /^%?[rw]\d+$/i.test(t.text);
  }

  reg(): Reg {
    const t = this.peek();
    const m = t?.kind === 'id' ? /^%?([rw])(\d+)$/i.exec(t.text) : null;
    if (!t || !m) throw this.error(`expected register${this.found()}`);
    const num = Number(m[2]);
    if (num > 10) throw this.error(`invalid register '${t.text}' (r0..r10)`);
    this.i++;
    return { num, w: m[1].toLowerCase() === 'w', col: t.col };
  }

  /** isNumber tells whether a (signed) number starts here. */
  isNumber(): boolean {
    const k = this.isOp('-') || this.isOp('+') ? 1 : 0;
    return this.peek(k)?.kind === 'num';
  }

  /** bigint parses an optionally signed number within [min, max]. */
  bigint(min: bigint, max: bigint, what: string): bigint {
    const col = this.col;
    const neg = this.eatOp('-');
    if (!neg) this.eatOp('+');
    const t = this.peek();
    if (t?.kind !== 'num') throw this.error(`expected ${what}${this.found()}`);
    this.i++;
    const v = neg ? -BigInt(t.text) : BigInt(t.text);
    if (v < min || v > max) throw this.error(`${what} ${neg ? '-' : ''}${t.text} out of range [${min}, ${max}]`, col);
    return v;
  }

  /** imm32 parses an immediate that fits 32 bits, signed or unsigned, as the signed slot value. */
  imm32(what = 'immediate'): number {
    return Number(BigInt.asIntN(32, this.bigint(INT32[0], INT32[1], what)));
  }

  /** int parses a signed number in [min, max]. */
  int(min: number, max: number, what: string): number {
    return Number(this.bigint(BigInt(min), BigInt(max), what));
  }

  /** offset16 parses a signed 16-bit offset. */
  offset16(what = 'offset'): number {
    return this.int(-32768, 32767, what);
  }

  /** memory parses `reg`, `reg + N` or `reg - N` (the brackets are the caller's). */
  memory(): { reg: Reg; off: number } {
    const reg = this.reg();
    if (!this.isOp('+') && !this.isOp('-')) return { reg, off: 0 };
    const col = this.col;
    const neg = this.next().text === '-';
    const v = this.bigint(-32768n, 65535n, 'offset');
    const off = neg ? -v : v;
    if (off < -32768n || off > 32767n) throw this.error(`offset ${off} out of range [-32768, 32767]`, col);
    return { reg, off: Number(off) };
  }

  /** target parses a jump target: a label, `+N`/`-N`/`N`, or `pc+N` (bpftool). */
  target(bits: 16 | 32): Target {
    const t = this.peek();
    const col = this.col;
    if (t?.kind === 'id' && t.text.toLowerCase() === 'pc' && (this.isOp('+', 1) || this.isOp('-', 1))) this.i++;
    else if (t?.kind === 'id' && !this.isReg()) {
      this.i++;
      return { label: t.text, col };
    }
    const lim = bits === 16 ? 2 ** 15 : 2 ** 31;
    return { value: this.int(-lim, lim - 1, 'jump offset'), col };
  }
}
