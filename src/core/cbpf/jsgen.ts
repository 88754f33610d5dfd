/**
 * A classic-program compiler to JavaScript, for filtering large captures: the program becomes
 * one JS function over the packet's Uint8Array, with the reference interpreter's semantics
 * (it is tested against runCbpf). Classic jumps only go forward, so every jump is a `break`
 * out of a labelled block that ends just before its target; V8 then compiles the function
 * to machine code. The eBPF path (convertCbpf + an engine) remains the general one.
 */
import * as c from './opcodes.js';
import type { CbpfMeta, CbpfProgram, SockFilter } from './opcodes.js';
import { checkCbpf } from './check.js';
import { loadAt } from './interp.js';

/** CompiledCbpf runs a compiled classic program: verdict for packet bytes, wire length and optional meta. */
export type CompiledCbpf = (data: Uint8Array, wireLen: number, meta?: Partial<CbpfMeta>) => number;

/**
 * RawCompiledCbpf is the same over a packet inside a larger buffer (a whole capture file):
 * bytes `buf[off .. off + caplen)`, so no per-packet view has to be created.
 */
export type RawCompiledCbpf = (buf: Uint8Array, off: number, caplen: number, wireLen: number, meta?: Partial<CbpfMeta>) => number;

function targets(prog: CbpfProgram): number[] {
  const t = new Set<number>();
  prog.forEach((i, pc) => {
    if (c.BPF_CLASS(i.code) !== c.BPF_JMP) return;
    if (c.BPF_OP(i.code) === c.BPF_JA) t.add(pc + 1 + i.k);
    else {
      t.add(pc + 1 + i.jt);
      t.add(pc + 1 + i.jf);
    }
  });
  return [...t].sort((a, b) => b - a);
}

const SIZE = (code: number): 1 | 2 | 4 => (c.BPF_SIZE(code) === c.BPF_B ? 1 : c.BPF_SIZE(code) === c.BPF_H ? 2 : 4);

/** bytesAt returns a JS expression reading `size` bytes big-endian at buffer index expression `q`. */
function bytesAt(q: string, size: 1 | 2 | 4): string {
  if (size === 1) return `d[${q}]`;
  if (size === 2) return `((d[${q}] << 8) | d[${q} + 1])`;
  return `(((d[${q}] << 24) | (d[${q} + 1] << 16) | (d[${q} + 2] << 8) | d[${q} + 3]) >>> 0)`;
}

/** constLoad returns JS code loading `size` bytes at constant offset k into `dst`, returning 0 when out of range. */
function constLoad(dst: string, k: number, size: 1 | 2 | 4): string {
  return `if (cl < ${k + size}) return 0; ${dst} = ${bytesAt(`o + ${k}`, size)};`;
}

/** ldNeg resolves a negative offset as loadAt does, for a packet inside a larger buffer. */
function ldNeg(d: Uint8Array, o: number, cl: number, off: number, size: 1 | 2 | 4, meta?: Partial<CbpfMeta>): number {
  return loadAt(d.subarray(o, o + cl), off, size, meta);
}

function load(i: SockFilter, dst: string): string {
  const k = i.k >>> 0;
  const mode = c.BPF_MODE(i.code);
  if (mode === c.BPF_IMM) return `${dst} = ${k};`;
  if (mode === c.BPF_LEN) return `${dst} = wl;`;
  if (mode === c.BPF_MEM) return `${dst} = m${k & 15};`;
  if (mode === c.BPF_MSH) {
    if ((k | 0) >= 0) return `if (cl < ${k + 1}) return 0; X = (d[o + ${k}] & 15) << 2;`;
    return `t = ld(d, o, cl, ${k | 0}, 1, meta); if (t < 0) return 0; X = (t & 15) << 2;`;
  }
  const size = SIZE(i.code);
  if (mode === c.BPF_IND) {
    return `t = (X + ${k}) | 0; if (t >= 0) { if (t + ${size} > cl) return 0; ${dst} = ${bytesAt('o + t', size)}; } ` +
      `else { t = ld(d, o, cl, t, ${size}, meta); if (t < 0) return 0; ${dst} = t; }`;
  }
  const anc = c.ancillaryIndex(k);
  if (anc === c.SKF_AD_ALU_XOR_X) return `if (!meta) return 0; A = (A ^ X) >>> 0;`;
  if (anc >= 0) {
    const f = c.ANCILLARY.get(anc);
    return f ? `if (!meta) return 0; ${dst} = (meta.${f} ?? 0) >>> 0;` : 'return 0;';
  }
  if ((k | 0) < 0) return `t = ld(d, o, cl, ${k | 0}, ${size}, meta); if (t < 0) return 0; ${dst} = t;`;
  return constLoad(dst, k, size);
}

const ALU_JS: Record<number, (v: string) => string> = {
  [c.BPF_ADD]: (v) => `A = (A + ${v}) >>> 0;`,
  [c.BPF_SUB]: (v) => `A = (A - ${v}) >>> 0;`,
  [c.BPF_MUL]: (v) => `A = Math.imul(A, ${v}) >>> 0;`,
  [c.BPF_DIV]: (v) => `if (${v} === 0) return 0; A = Math.floor(A / ${v}) >>> 0;`,
  [c.BPF_MOD]: (v) => `if (${v} === 0) return 0; A = (A % ${v}) >>> 0;`,
  [c.BPF_AND]: (v) => `A = (A & ${v}) >>> 0;`,
  [c.BPF_OR]: (v) => `A = (A | ${v}) >>> 0;`,
  [c.BPF_XOR]: (v) => `A = (A ^ ${v}) >>> 0;`,
  [c.BPF_LSH]: (v) => `A = (A << (${v} & 31)) >>> 0;`,
  [c.BPF_RSH]: (v) => `A = A >>> (${v} & 31);`,
};

const COND_JS: Record<number, (v: string) => string> = {
  [c.BPF_JEQ]: (v) => `A === ${v}`,
  [c.BPF_JGT]: (v) => `A > ${v}`,
  [c.BPF_JGE]: (v) => `A >= ${v}`,
  [c.BPF_JSET]: (v) => `(A & ${v}) !== 0`,
};

function stmt(i: SockFilter, pc: number, n: number): string {
  const k = i.k >>> 0;
  const goto = (t: number): string => (t === pc + 1 ? '' : `break L${t};`);
  switch (c.BPF_CLASS(i.code)) {
    case c.BPF_LD: return load(i, 'A');
    case c.BPF_LDX: return load(i, 'X');
    case c.BPF_ST: return `m${k & 15} = A;`;
    case c.BPF_STX: return `m${k & 15} = X;`;
    case c.BPF_ALU:
      if (c.BPF_OP(i.code) === c.BPF_NEG) return 'A = (-A) >>> 0;';
      return ALU_JS[c.BPF_OP(i.code)](c.BPF_SRC(i.code) === c.BPF_X ? 'X' : String(k));
    case c.BPF_JMP: {
      if (c.BPF_OP(i.code) === c.BPF_JA) return goto(pc + 1 + k);
      const cond = COND_JS[c.BPF_OP(i.code)](c.BPF_SRC(i.code) === c.BPF_X ? 'X' : String(k));
      return `if (${cond}) { ${goto(pc + 1 + i.jt)} } else { ${goto(pc + 1 + i.jf)} }`;
    }
    case c.BPF_RET: return c.BPF_RVAL(i.code) === c.BPF_A ? 'return A;' : `return ${k};`;
    default:
      void n;
      return c.BPF_MISCOP(i.code) === c.BPF_TAX ? 'X = A;' : 'A = X;';
  }
}

/** compileCbpfToJs compiles a (checked) classic program to a JS function with runCbpf's semantics. */
export function compileCbpfToJs(prog: CbpfProgram): CompiledCbpf {
  const raw = compileCbpfToJsRaw(prog);
  return (data, wireLen, meta) => raw(data, 0, data.length, wireLen, meta);
}

/** body returns the JS statements of a compiled program (verdicts leave through `return`). */
function body(prog: CbpfProgram): string {
  checkCbpf(prog);
  const ts = targets(prog);
  const lines: string[] = ['let A = 0, X = 0, t = 0;', `let ${Array.from({ length: 16 }, (_, i) => `m${i} = 0`).join(', ')};`];
  lines.push(...ts.map((t) => `L${t}: {`));
  const open = new Set(ts);
  prog.forEach((i, pc) => {
    if (open.has(pc)) lines.push('}');
    lines.push(stmt(i, pc, prog.length));
  });
  lines.push('return 0;');
  return lines.join('\n');
}

/** compileCbpfToJsRaw compiles a (checked) classic program to a RawCompiledCbpf. */
export function compileCbpfToJsRaw(prog: CbpfProgram): RawCompiledCbpf {
  const make = new Function('ld', `return function cbpf(d, o, cl, wlIn, meta) { const wl = (wlIn > cl ? wlIn : cl) >>> 0;\n${body(prog)}\n};`);
  return make(ldNeg) as RawCompiledCbpf;
}

/**
 * PcapScanner filters the records of a classic pcap file in one call: from byte `p` to `n` of
 * `d`, it appends each accepted record's offset and size to `out` and returns where it stopped
 * (n, or the offset of a truncated record, or -1 - offset for an implausible record length).
 */
export type PcapScanner = (d: Uint8Array, p: number, n: number, out: number[]) => number;

/**
 * compileCbpfPcapScanner compiles a classic program together with the record loop of a classic
 * pcap file of the given byte order, so the whole file is filtered by one optimised function.
 */
export function compileCbpfPcapScanner(prog: CbpfProgram, littleEndian: boolean, maxLen: number): PcapScanner {
  const u32 = (q: string): string => littleEndian
    ? `((d[${q}] | (d[${q} + 1] << 8) | (d[${q} + 2] << 16) | (d[${q} + 3] << 24)) >>> 0)`
    : `(((d[${q}] << 24) | (d[${q} + 1] << 16) | (d[${q} + 2] << 8) | d[${q} + 3]) >>> 0)`;
  // the program's returns become "verdict, leave the per-packet block"
  const inner = body(prog).replace(/return ([^;]+);/g, '{ v = $1; break F; }');
  const src = `return function scan(d, p, n, out) { const meta = undefined;
    while (p < n) {
      if (p + 16 > n) return p;
      const cl = ${u32('p + 8')};
      if (cl > ${maxLen}) return -1 - p;
      if (p + 16 + cl > n) return p;
      const o = p + 16, wlIn = ${u32('p + 12')};
      const wl = (wlIn > cl ? wlIn : cl) >>> 0;
      let v = 0;
      F: { ${inner} }
      if (v !== 0) out.push(p, 16 + cl);
      p = o + cl;
    }
    return p; };`;
  return new Function('ld', src)(ldNeg) as PcapScanner;
}
