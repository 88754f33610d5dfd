/**
 * Arithmetic in pcap-filter relations (`ip[2:2] - ((ip[0]&0xf)<<2) > 40`): the expression
 * tree, and its code: statements leaving the value in A (scratch slots hold intermediate
 * right operands), plus the protocol checks ("guards") a header load needs, in libpcap's order.
 */
import * as c from '../cbpf/opcodes.js';
import type { SockFilter } from '../cbpf/opcodes.js';
import { BExpr, and, cmp, not, or, test } from './ir.js';
import type { Gen } from './gen.js';
import { filterError } from './lexer.js';

/** LoadProto names the headers `proto[index:size]` may index. */
export type LoadProto = 'ether' | 'ip' | 'ip6' | 'arp' | 'rarp' | 'tcp' | 'udp' | 'icmp' | 'igmp' | 'icmp6';

/** Arith is an arithmetic expression. */
export type Arith =
  | { t: 'num'; v: number }
  | { t: 'len' }
  | { t: 'load'; proto: LoadProto; idx: Arith; size: number; col: number }
  | { t: 'bin'; op: string; a: Arith; b: Arith; col: number }
  | { t: 'neg'; a: Arith };

const TRANSPORT: Partial<Record<LoadProto, number>> = { tcp: 6, udp: 17, icmp: 1, igmp: 2 };

const ALU_OPS: Record<string, number> = {
  '+': c.BPF_ADD, '-': c.BPF_SUB, '*': c.BPF_MUL, '/': c.BPF_DIV, '%': c.BPF_MOD, '&': c.BPF_AND,
  '|': c.BPF_OR, '^': c.BPF_XOR, '<<': c.BPF_LSH, '>>': c.BPF_RSH,
};

/** Relop is a comparison operator of a relation. */
export type Relop = '>' | '<' | '>=' | '<=' | '=' | '==' | '!=';

/** ArithGen turns arithmetic into statements, tracking scratch slots and guards. */
export class ArithGen {
  private used = 0;
  readonly guards: BExpr[] = [];
  constructor(private readonly g: Gen) {}

  /** alloc reserves a scratch slot. */
  alloc(col: number): number {
    if (this.used >= c.BPF_MEMWORDS) throw filterError('expression too complex (out of scratch memory)', col);
    return this.used++;
  }

  /** free releases the most recently reserved slot. */
  free(): void {
    this.used--;
  }

  /** code returns statements that leave the value of `a` in A (X may be clobbered). */
  code(a: Arith): SockFilter[] {
    switch (a.t) {
      case 'num': return [c.sf(c.BPF_LD | c.BPF_IMM, 0, 0, a.v)];
      case 'len': return [c.sf(c.BPF_LD | c.BPF_W | c.BPF_LEN)];
      case 'neg': return [...this.code(a.a), c.sf(c.BPF_ALU | c.BPF_NEG)];
      case 'load': return this.load(a);
      default: return this.bin(a);
    }
  }

  private bin(a: Extract<Arith, { t: 'bin' }>): SockFilter[] {
    const op = ALU_OPS[a.op];
    if (a.b.t === 'num') {
      if ((op === c.BPF_DIV || op === c.BPF_MOD) && a.b.v === 0) throw filterError('division by zero', a.col);
      if ((op === c.BPF_LSH || op === c.BPF_RSH) && a.b.v >= 32) throw filterError('shift by 32 or more', a.col);
      return [...this.code(a.a), c.sf(c.BPF_ALU | op | c.BPF_K, 0, 0, a.b.v)];
    }
    const s = this.alloc(a.col);
    const left = this.code(a.a);
    const right = this.code(a.b);
    this.free();
    return [...right, c.sf(c.BPF_ST, 0, 0, s), ...left, c.sf(c.BPF_LDX | c.BPF_MEM, 0, 0, s), c.sf(c.BPF_ALU | op | c.BPF_X)];
  }

  private load(a: Extract<Arith, { t: 'load' }>): SockFilter[] {
    const g = this.g;
    const pl = g.off.linkPl;
    const size = a.size === 1 ? c.BPF_B : a.size === 2 ? c.BPF_H : c.BPF_W;
    const tp = TRANSPORT[a.proto];
    let base: number;
    // guards of the index come before the header check, as libpcap orders them
    if (tp !== undefined) this.guards.push(g.ip());
    const idxConst = a.idx.t === 'num' ? a.idx.v : undefined;
    const idxCode = idxConst === undefined ? this.code(a.idx) : [];
    switch (a.proto) {
      case 'ether': base = 0; break;
      case 'ip': base = pl; this.guards.push(g.ip()); break;
      case 'ip6': base = pl; this.guards.push(g.ip6()); break;
      case 'arp': base = pl; this.guards.push(g.arp()); break;
      case 'rarp': base = pl; this.guards.push(g.rarp()); break;
      case 'icmp6': base = pl + 40; this.guards.push(and(g.ip6(), cmp(1, pl + 6, 58))); break;
      default: base = pl; this.guards.push(or(g.ipProto(tp!), g.ip6Proto(tp!)), g.notFrag());
    }
    const msh = c.sf(c.BPF_LDX | c.BPF_B | c.BPF_MSH, 0, 0, pl);
    if (idxConst !== undefined) {
      const off = (base + idxConst) >>> 0;
      if (tp !== undefined) return [msh, c.sf(c.BPF_LD | size | c.BPF_IND, 0, 0, off)];
      return [c.sf(c.BPF_LD | size | c.BPF_ABS, 0, 0, off)];
    }
    if (tp === undefined) return [...idxCode, c.sf(c.BPF_MISC | c.BPF_TAX), c.sf(c.BPF_LD | size | c.BPF_IND, 0, 0, base)];
    const s = this.alloc(a.col);
    this.free();
    return [...idxCode, c.sf(c.BPF_ST, 0, 0, s), msh, c.sf(c.BPF_LD | c.BPF_MEM, 0, 0, s),
      c.sf(c.BPF_ALU | c.BPF_ADD | c.BPF_X), c.sf(c.BPF_MISC | c.BPF_TAX), c.sf(c.BPF_LD | size | c.BPF_IND, 0, 0, base)];
  }
}

/** relation compiles `a relop b` into guards followed by one test. */
export function relation(g: Gen, a: Arith, op: Relop, b: Arith, col: number): BExpr {
  const ag = new ArithGen(g);
  const jop = op === '>' || op === '<=' ? c.BPF_JGT : op === '>=' || op === '<' ? c.BPF_JGE : c.BPF_JEQ;
  const negate = op === '<' || op === '<=' || op === '!=';
  let t: BExpr;
  if (b.t === 'num') t = test(ag.code(a), jop, b.v);
  else {
    // the right side's value is parked in a scratch slot while the left is computed
    const s = ag.alloc(col);
    const left = ag.code(a);
    const right = ag.code(b);
    ag.free();
    t = test([...right, c.sf(c.BPF_ST, 0, 0, s), ...left, c.sf(c.BPF_LDX | c.BPF_MEM, 0, 0, s)], jop, 0, true);
  }
  const cond = negate ? not(t) : t;
  return ag.guards.length ? and(...ag.guards, cond) : cond;
}
