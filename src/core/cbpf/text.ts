/**
 * The three text forms tcpdump prints for a classic program, read and written:
 * `-d` (assembly with absolute jump targets), `-dd` (a C array of sock_filter initialisers)
 * and `-ddd` (a count line, then "code jt jf k" in decimal). The printers reproduce
 * libpcap's layout byte for byte.
 */
import { BpfError } from '../errors.js';
import * as c from './opcodes.js';
import type { CbpfProgram, SockFilter } from './opcodes.js';
import { isCondJump } from './check.js';

/** ANCILLARY_NAMES are the names libpcap prints for ancillary loads (`ld [proto]`). */
export const ANCILLARY_NAMES: ReadonlyMap<number, string> = new Map([
  [c.SKF_AD_PROTOCOL, 'proto'], [c.SKF_AD_PKTTYPE, 'type'], [c.SKF_AD_IFINDEX, 'ifidx'], [c.SKF_AD_NLATTR, 'nla'],
  [c.SKF_AD_NLATTR_NEST, 'nlan'], [c.SKF_AD_MARK, 'mark'], [c.SKF_AD_QUEUE, 'queue'], [c.SKF_AD_HATYPE, 'hatype'],
  [c.SKF_AD_RXHASH, 'rxhash'], [c.SKF_AD_CPU, 'cpu'], [c.SKF_AD_VLAN_TAG, 'vlan_tci'], [c.SKF_AD_VLAN_TAG_PRESENT, 'vlanp'],
  [c.SKF_AD_PAY_OFFSET, 'poff'], [c.SKF_AD_RANDOM, 'random'], [c.SKF_AD_VLAN_TPID, 'vlan_tpid'],
  [c.SKF_AD_ALU_XOR_X, 'xor_x'],
]);
const ANCILLARY_BY_NAME = new Map([...ANCILLARY_NAMES].map(([k, v]) => [v, k]));

const ALU_NAMES = new Map([
  [c.BPF_ADD, 'add'], [c.BPF_SUB, 'sub'], [c.BPF_MUL, 'mul'], [c.BPF_DIV, 'div'], [c.BPF_MOD, 'mod'],
  [c.BPF_AND, 'and'], [c.BPF_OR, 'or'], [c.BPF_XOR, 'xor'], [c.BPF_LSH, 'lsh'], [c.BPF_RSH, 'rsh'],
]);
const JMP_NAMES = new Map([[c.BPF_JEQ, 'jeq'], [c.BPF_JGT, 'jgt'], [c.BPF_JGE, 'jge'], [c.BPF_JSET, 'jset']]);
/** ALU ops libpcap prints in hex; the others print as signed decimal. */
const HEX_ALU = new Set([c.BPF_AND, c.BPF_OR, c.BPF_XOR]);
const SIZE_SUFFIX = new Map([[c.BPF_W, ''], [c.BPF_H, 'h'], [c.BPF_B, 'b']]);

const hex = (k: number): string => '#0x' + (k >>> 0).toString(16);
const dec = (k: number): string => String(k | 0);

/** operandOf returns libpcap's mnemonic and operand text for one instruction. */
function operandOf(i: SockFilter, pc: number): [string, string] {
  const k = i.k >>> 0;
  const cls = c.BPF_CLASS(i.code);
  const mode = c.BPF_MODE(i.code);
  const sfx = SIZE_SUFFIX.get(c.BPF_SIZE(i.code));
  switch (cls) {
    case c.BPF_RET:
      if (i.code === (c.BPF_RET | c.BPF_K)) return ['ret', '#' + dec(k)];
      if (i.code === (c.BPF_RET | c.BPF_A)) return ['ret', ''];
      break;
    case c.BPF_LD:
      if (mode === c.BPF_ABS && sfx !== undefined) {
        const name = ANCILLARY_NAMES.get(c.ancillaryIndex(k));
        return ['ld' + sfx, name !== undefined ? `[${name}]` : `[${dec(k)}]`];
      }
      if (mode === c.BPF_IND && sfx !== undefined) return ['ld' + sfx, `[x + ${dec(k)}]`];
      if (i.code === (c.BPF_LD | c.BPF_W | c.BPF_LEN)) return ['ld', '#pktlen'];
      if (i.code === (c.BPF_LD | c.BPF_IMM)) return ['ld', hex(k)];
      if (i.code === (c.BPF_LD | c.BPF_MEM)) return ['ld', `M[${dec(k)}]`];
      break;
    case c.BPF_LDX:
      if (i.code === (c.BPF_LDX | c.BPF_W | c.BPF_LEN)) return ['ldx', '#pktlen'];
      if (i.code === (c.BPF_LDX | c.BPF_IMM)) return ['ldx', hex(k)];
      if (i.code === (c.BPF_LDX | c.BPF_MEM)) return ['ldx', `M[${dec(k)}]`];
      if (i.code === (c.BPF_LDX | c.BPF_B | c.BPF_MSH)) return ['ldxb', `4*([${dec(k)}]&0xf)`];
      break;
    case c.BPF_ST:
      if (i.code === c.BPF_ST) return ['st', `M[${dec(k)}]`];
      break;
    case c.BPF_STX:
      if (i.code === c.BPF_STX) return ['stx', `M[${dec(k)}]`];
      break;
    case c.BPF_ALU: {
      const op = c.BPF_OP(i.code);
      if (i.code === (c.BPF_ALU | c.BPF_NEG)) return ['neg', ''];
      const name = ALU_NAMES.get(op);
      if (name === undefined) break;
      if (c.BPF_SRC(i.code) === c.BPF_X) return [name, 'x'];
      return [name, HEX_ALU.has(op) ? hex(k) : '#' + dec(k)];
    }
    case c.BPF_JMP: {
      const op = c.BPF_OP(i.code);
      if (i.code === (c.BPF_JMP | c.BPF_JA)) return ['ja', String(pc + 1 + k)];
      const name = JMP_NAMES.get(op);
      if (name === undefined) break;
      return [name, c.BPF_SRC(i.code) === c.BPF_X ? 'x' : hex(k)];
    }
    default:
      if (i.code === (c.BPF_MISC | c.BPF_TAX)) return ['tax', ''];
      if (i.code === (c.BPF_MISC | c.BPF_TXA)) return ['txa', ''];
      break;
  }
  return ['unimp', '0x' + i.code.toString(16)];
}

/** formatInsn prints one instruction the way `tcpdump -d` does. */
export function formatInsn(i: SockFilter, pc: number): string {
  const [op, operand] = operandOf(i, pc);
  const head = `(${String(pc).padStart(3, '0')}) ${op.padEnd(8)} `;
  if (isCondJump(i.code) && JMP_NAMES.has(c.BPF_OP(i.code))) {
    return `${head}${operand.padEnd(16)} jt ${pc + 1 + i.jt}\tjf ${pc + 1 + i.jf}`;
  }
  return head + operand;
}

/** formatD prints a program as `tcpdump -d` does. */
export function formatD(prog: CbpfProgram): string {
  return prog.map((i, pc) => formatInsn(i, pc) + '\n').join('');
}

/** formatDD prints a program as `tcpdump -dd` does (a C initialiser list). */
export function formatDD(prog: CbpfProgram): string {
  return prog.map((i) => `{ 0x${i.code.toString(16)}, ${i.jt}, ${i.jf}, 0x${(i.k >>> 0).toString(16).padStart(8, '0')} },\n`).join('');
}

/** formatDDD prints a program as `tcpdump -ddd` does (count, then decimal lines). */
export function formatDDD(prog: CbpfProgram): string {
  return `${prog.length}\n` + prog.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k >>> 0}\n`).join('');
}

/** CbpfTextFormat names the three forms. */
export type CbpfTextFormat = 'd' | 'dd' | 'ddd';

/** formatCbpf prints a program in one of the three forms. */
export function formatCbpf(prog: CbpfProgram, form: CbpfTextFormat): string {
  return form === 'd' ? formatD(prog) : form === 'dd' ? formatDD(prog) : formatDDD(prog);
}

function syntax(msg: string, line: number, column?: number): BpfError {
  return new BpfError('E_ASM', msg, { line, column });
}

/** parseNumber reads a C integer literal (decimal, 0x hex, leading-zero octal, optional sign) as unsigned 32-bit. */
function parseNumber(text: string, line: number): number {
  const t = text.trim();
  const m = /^([+-]?)(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.exec(t);
  if (!m) throw syntax(`bad number "${t}"`, line);
  const body = m[2];
  const v = /^0x/i.test(body) ? parseInt(body.slice(2), 16) : body.length > 1 && body[0] === '0' ? parseInt(body, 8) : parseInt(body, 10);
  if (v > 0xffffffff) throw syntax(`number "${t}" does not fit in 32 bits`, line);
  return (m[1] === '-' ? -v : v) >>> 0;
}

/** detectFormat guesses which of the three forms some text is. */
export function detectFormat(text: string): CbpfTextFormat {
  const first = text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  if (first.startsWith('{')) return 'dd';
  if (/^\d+$/.test(first)) return 'ddd';
  return 'd';
}

/** parseCbpf reads a program in any of the three forms (detected unless `form` is given). */
export function parseCbpf(text: string, form: CbpfTextFormat = detectFormat(text)): CbpfProgram {
  const prog = form === 'dd' ? parseDD(text) : form === 'ddd' ? parseDDD(text) : parseD(text);
  if (prog.length === 0) throw new BpfError('EINVAL', 'no instructions found');
  return prog;
}

/** parseDDD reads `tcpdump -ddd` output; a first line with a lone count is checked against the lines. */
export function parseDDD(text: string): CbpfProgram {
  const lines = text.split('\n').map((l, n) => ({ t: l.trim(), n: n + 1 })).filter((l) => l.t !== '');
  let count: number | undefined;
  if (lines.length && /^\d+$/.test(lines[0].t)) count = Number(lines.shift()!.t);
  const prog = lines.map(({ t, n }) => {
    const f = t.split(/\s+/);
    if (f.length !== 4) throw syntax(`expected "code jt jf k", got "${t}"`, n);
    return fromFields(f.map((x) => parseNumber(x, n)), n);
  });
  if (count !== undefined && count !== prog.length) {
    throw new BpfError('EINVAL', `count line says ${count} instructions but ${prog.length} follow`, { line: 1 });
  }
  return prog;
}

function fromFields([code, jt, jf, k]: number[], line: number): SockFilter {
  if (code > 0xffff) throw syntax(`opcode ${code} does not fit in 16 bits`, line);
  if (jt > 0xff || jf > 0xff) throw syntax('jt/jf must fit in 8 bits', line);
  return c.sf(code, jt, jf, k);
}

/** parseDD reads `tcpdump -dd` output (or any list of `{ code, jt, jf, k }` initialisers). */
export function parseDD(text: string): CbpfProgram {
  const prog: CbpfProgram = [];
  text.split('\n').forEach((l, n) => {
    const s = l.replace(/\/\*.*?\*\/|\/\/.*$/g, '');
    for (const m of s.matchAll(/\{([^}]*)\}/g)) {
      const f = m[1].split(',').map((x) => x.trim()).filter((x) => x !== '');
      if (f.length !== 4) throw syntax(`expected { code, jt, jf, k }, got "{${m[1]}}"`, n + 1, (m.index ?? 0) + 1);
      prog.push(fromFields(f.map((x) => parseNumber(x, n + 1)), n + 1));
    }
  });
  return prog;
}

/** parseD reads `tcpdump -d` output; the "(nnn)" prefixes are optional but must count up from 0. */
export function parseD(text: string): CbpfProgram {
  const prog: CbpfProgram = [];
  text.split('\n').forEach((raw, n) => {
    const line = raw.replace(/;.*$/, '').trim();
    if (line === '') return;
    const m = /^(?:\((\d+)\)\s*)?(\S+)\s*(.*)$/.exec(line)!;
    if (m[1] !== undefined && Number(m[1]) !== prog.length) {
      throw syntax(`instruction number (${m[1]}) out of sequence, expected ${prog.length}`, n + 1, 1);
    }
    prog.push(parseDLine(m[2].toLowerCase(), m[3].trim(), prog.length, n + 1));
  });
  return prog;
}

function parseDLine(op: string, rest: string, pc: number, line: number): SockFilter {
  const jm = /^(.*?)\s*jt\s+(\d+)\s+jf\s+(\d+)$/.exec(rest);
  if (jm) return parseCondJump(op, jm[1].trim(), Number(jm[2]), Number(jm[3]), pc, line);
  switch (op) {
    case 'ret':
      if (rest === '' || rest.toLowerCase() === 'a') return c.sf(c.BPF_RET | c.BPF_A);
      return c.sf(c.BPF_RET | c.BPF_K, 0, 0, imm(rest, line));
    case 'ld': case 'ldh': case 'ldb': return parseLd(op, rest, line);
    case 'ldx': case 'ldxb': return parseLdx(op, rest, line);
    case 'st': case 'stx': return c.sf(op === 'st' ? c.BPF_ST : c.BPF_STX, 0, 0, memSlot(rest, line));
    case 'ja': {
      const target = parseNumber(rest, line);
      if (target <= pc) throw syntax(`ja ${target} does not jump forward`, line);
      return c.sf(c.BPF_JMP | c.BPF_JA, 0, 0, target - pc - 1);
    }
    case 'neg': return c.sf(c.BPF_ALU | c.BPF_NEG);
    case 'tax': return c.sf(c.BPF_MISC | c.BPF_TAX);
    case 'txa': return c.sf(c.BPF_MISC | c.BPF_TXA);
    default: {
      const aop = [...ALU_NAMES].find(([, name]) => name === op)?.[0];
      if (aop === undefined) throw syntax(`unknown mnemonic "${op}"`, line, 1);
      if (rest.toLowerCase() === 'x') return c.sf(c.BPF_ALU | aop | c.BPF_X);
      return c.sf(c.BPF_ALU | aop | c.BPF_K, 0, 0, imm(rest, line));
    }
  }
}

function imm(text: string, line: number): number {
  if (!text.startsWith('#')) throw syntax(`expected #constant, got "${text}"`, line);
  return parseNumber(text.slice(1), line);
}

function memSlot(text: string, line: number): number {
  const m = /^M\[\s*(\S+?)\s*\]$/i.exec(text);
  if (!m) throw syntax(`expected M[n], got "${text}"`, line);
  return parseNumber(m[1], line);
}

function parseCondJump(op: string, operand: string, jt: number, jf: number, pc: number, line: number): SockFilter {
  const jop = [...JMP_NAMES].find(([, name]) => name === op)?.[0];
  if (jop === undefined) throw syntax(`"${op}" is not a conditional jump`, line, 1);
  const rt = jt - pc - 1;
  const rf = jf - pc - 1;
  if (rt < 0 || rf < 0) throw syntax(`jump targets ${jt}/${jf} must be after instruction ${pc}`, line);
  if (rt > 255 || rf > 255) throw syntax('jump offset does not fit in 8 bits', line);
  if (operand.toLowerCase() === 'x') return c.sf(c.BPF_JMP | jop | c.BPF_X, rt, rf);
  return c.sf(c.BPF_JMP | jop | c.BPF_K, rt, rf, imm(operand, line));
}

function parseLd(op: string, rest: string, line: number): SockFilter {
  const size = op === 'ldh' ? c.BPF_H : op === 'ldb' ? c.BPF_B : c.BPF_W;
  const ind = /^\[\s*x\s*\+\s*(\S+?)\s*\]$/i.exec(rest);
  if (ind) return c.sf(c.BPF_LD | size | c.BPF_IND, 0, 0, parseNumber(ind[1], line));
  const abs = /^\[\s*(\S+?)\s*\]$/.exec(rest);
  if (abs) {
    const anc = ANCILLARY_BY_NAME.get(abs[1].toLowerCase());
    const k = anc !== undefined ? (c.SKF_AD_OFF + anc) >>> 0 : parseNumber(abs[1], line);
    return c.sf(c.BPF_LD | size | c.BPF_ABS, 0, 0, k);
  }
  if (size !== c.BPF_W) throw syntax(`${op} needs a packet operand [k] or [x + k]`, line);
  if (rest.toLowerCase() === '#pktlen' || rest.toLowerCase() === '#len') return c.sf(c.BPF_LD | c.BPF_W | c.BPF_LEN);
  if (/^M\[/i.test(rest)) return c.sf(c.BPF_LD | c.BPF_MEM, 0, 0, memSlot(rest, line));
  return c.sf(c.BPF_LD | c.BPF_IMM, 0, 0, imm(rest, line));
}

function parseLdx(op: string, rest: string, line: number): SockFilter {
  if (op === 'ldxb') {
    const m = /^4\s*\*\s*\(\s*\[\s*(\S+?)\s*\]\s*&\s*0xf\s*\)$/i.exec(rest);
    if (!m) throw syntax(`expected 4*([k]&0xf), got "${rest}"`, line);
    return c.sf(c.BPF_LDX | c.BPF_B | c.BPF_MSH, 0, 0, parseNumber(m[1], line));
  }
  if (rest.toLowerCase() === '#pktlen' || rest.toLowerCase() === '#len') return c.sf(c.BPF_LDX | c.BPF_W | c.BPF_LEN);
  if (/^M\[/i.test(rest)) return c.sf(c.BPF_LDX | c.BPF_MEM, 0, 0, memSlot(rest, line));
  return c.sf(c.BPF_LDX | c.BPF_IMM, 0, 0, imm(rest, line));
}
