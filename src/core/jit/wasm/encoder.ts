/**
 * A small WebAssembly binary encoder: a growable byte writer with LEB128, a function-body
 * builder with typed emit helpers, and a module builder for the sections the JIT needs
 * (type, import, function, global, export, code). No dependency; binary format of the core
 * spec with the multi-value, sign-extension, bulk-memory and threads extensions.
 */
import { I32, I64, Op, PREFIX_ATOMIC, PREFIX_FC } from './ops.js';

/** Bytes is a growable byte buffer with LEB128 writers. */
export class Bytes {
  buf = new Uint8Array(256);
  len = 0;

  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  /** byte appends one byte. */
  byte(b: number): void {
    if (this.len === this.buf.length) this.grow(1);
    this.buf[this.len++] = b;
  }

  /** bytes appends a byte array. */
  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** u32 appends an unsigned LEB128 of a 32-bit value. */
  u32(v: number): void {
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
  }

  /** s32 appends a signed LEB128 of a 32-bit value. */
  s32(v: number): void {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.byte(b);
        return;
      }
      this.byte(b | 0x80);
    }
  }

  /** s64 appends a signed LEB128 of a 64-bit value (taken modulo 2^64). */
  s64(value: bigint): void {
    const v = BigInt.asIntN(64, value);
    if (v >= -0x40000000n && v < 0x40000000n) {
      this.s32(Number(v));
      return;
    }
    this.bytes(s64Bytes(v));
  }

  /** name appends a length-prefixed UTF-8 string. */
  name(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.bytes(b);
  }

  /** vec appends a length-prefixed byte vector. */
  vec(b: Bytes): void {
    this.u32(b.len);
    this.bytes(b.result());
  }

  /** result returns the bytes written so far (a view, not a copy). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

// Large constants repeat (masks, shadow patterns): their encodings are memoised.
const s64Memo = new Map<bigint, Uint8Array>();

function s64Bytes(value: bigint): Uint8Array {
  let enc = s64Memo.get(value);
  if (enc) return enc;
  const out: number[] = [];
  let v = value;
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      break;
    }
    out.push(b | 0x80);
  }
  enc = new Uint8Array(out);
  if (s64Memo.size > 4096) s64Memo.clear();
  s64Memo.set(value, enc);
  return enc;
}

/** FuncType is a function signature. */
export interface FuncType {
  params: number[];
  results: number[];
}

/**
 * Code builds one function body: declared locals plus the instruction stream. The emit
 * helpers keep the code generator readable; `op` writes raw opcodes.
 */
export class Code extends Bytes {
  private readonly localTypes: number[] = [];
  /** marks: (offset in the instruction stream, tag) pairs, e.g. memory accesses and their eBPF slot */
  readonly marks: number[] = [];
  /** codeOffset is set by ModuleBuilder.encode: module offset of this body's first instruction */
  codeOffset = -1;
  constructor(readonly nparams: number) {
    super();
  }

  /** mark tags the next instruction's position (to map a trap's module offset back to `tag`). */
  mark(tag: number): this {
    this.marks.push(this.len, tag);
    return this;
  }

  /** local declares a new local of type `t` and returns its index. */
  local(t: number): number {
    this.localTypes.push(t);
    return this.nparams + this.localTypes.length - 1;
  }

  /** op emits single-byte opcodes. */
  op(...ops: number[]): this {
    for (const o of ops) this.byte(o);
    return this;
  }

  /** get emits local.get. */
  get(i: number): this {
    this.byte(Op.local_get);
    this.u32(i);
    return this;
  }

  /** set emits local.set. */
  set(i: number): this {
    this.byte(Op.local_set);
    this.u32(i);
    return this;
  }

  /** tee emits local.tee. */
  tee(i: number): this {
    this.byte(Op.local_tee);
    this.u32(i);
    return this;
  }

  /** gget emits global.get. */
  gget(i: number): this {
    this.byte(Op.global_get);
    this.u32(i);
    return this;
  }

  /** gset emits global.set. */
  gset(i: number): this {
    this.byte(Op.global_set);
    this.u32(i);
    return this;
  }

  /** i32 emits i32.const. */
  i32(v: number): this {
    this.byte(Op.i32_const);
    this.s32(v);
    return this;
  }

  /** i64 emits i64.const. */
  i64(v: bigint | number): this {
    this.byte(Op.i64_const);
    if (typeof v === 'number' && v === (v | 0)) this.s32(v);
    else this.s64(BigInt(v));
    return this;
  }

  /** mem emits a load/store opcode with its memarg (alignment as log2, offset). */
  mem(opcode: number, alignLog2: number, offset = 0): this {
    this.byte(opcode);
    this.u32(alignLog2);
    this.u32(offset);
    return this;
  }

  /** atomic emits a 0xFE-prefixed atomic memory opcode (alignment must be natural). */
  atomic(sub: number, alignLog2: number, offset = 0): this {
    this.byte(PREFIX_ATOMIC);
    this.u32(sub);
    this.u32(alignLog2);
    this.u32(offset);
    return this;
  }

  /** memoryFill emits memory.fill (dest, value, length on the stack). */
  memoryFill(): this {
    this.byte(PREFIX_FC);
    this.u32(11);
    this.byte(0);
    return this;
  }

  /** call emits a direct call. */
  call(fn: number): this {
    this.byte(Op.call);
    this.u32(fn);
    return this;
  }

  /** block/loop/if open a structured construct with the given block type (default void). */
  block(bt = 0x40): this {
    return this.op(Op.block, bt);
  }
  loop(bt = 0x40): this {
    return this.op(Op.loop, bt);
  }
  if(bt = 0x40): this {
    return this.op(Op.if, bt);
  }
  else(): this {
    return this.op(Op.else);
  }
  end(): this {
    return this.op(Op.end);
  }

  /** br emits a branch to the label `depth` levels out. */
  br(depth: number): this {
    this.byte(Op.br);
    this.u32(depth);
    return this;
  }

  /** brTable emits br_table with the given targets and default. */
  brTable(targets: number[], dflt: number): this {
    this.byte(Op.br_table);
    this.u32(targets.length);
    for (const t of targets) this.u32(t);
    this.u32(dflt);
    return this;
  }

  /** encode returns the body as the code section wants it (locals + code + end); `header` gets the locals' size. */
  encode(header?: { len: number }): Bytes {
    const out = new Bytes();
    const groups: Array<[number, number]> = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    out.u32(groups.length);
    for (const [n, t] of groups) {
      out.u32(n);
      out.byte(t);
    }
    if (header) header.len = out.len;
    out.bytes(this.result());
    out.byte(Op.end);
    return out;
  }
}

/** MemoryImport describes the imported linear memory. */
export interface MemoryImport {
  module: string;
  name: string;
  minPages: number;
  maxPages?: number;
  shared: boolean;
}

interface FuncImport {
  module: string;
  name: string;
  type: number;
}

interface GlobalImport {
  module: string;
  name: string;
  type: number;
  mutable: boolean;
}

interface GlobalDef {
  type: number;
  init: bigint;
}

/**
 * ModuleBuilder assembles a module. Imported functions and globals come first in their index
 * spaces, so all imports must be declared before any function or global is defined.
 */
export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly typeKeys = new Map<string, number>();
  private readonly funcImports: FuncImport[] = [];
  private readonly globalImports: GlobalImport[] = [];
  private memory: MemoryImport | null = null;
  private readonly funcs: Array<{ type: number; code: Code | null }> = [];
  private readonly globals: GlobalDef[] = [];
  private readonly exports: Array<{ name: string; kind: number; index: number }> = [];

  /** type returns the index of a (deduplicated) function type. */
  type(params: number[], results: number[]): number {
    const key = params.join(',') + ':' + results.join(',');
    let i = this.typeKeys.get(key);
    if (i === undefined) {
      i = this.types.length;
      this.types.push({ params, results });
      this.typeKeys.set(key, i);
    }
    return i;
  }

  /** importFunc declares an imported function and returns its function index. */
  importFunc(module: string, name: string, params: number[], results: number[]): number {
    if (this.funcs.length) throw new Error('imports must precede defined functions');
    this.funcImports.push({ module, name, type: this.type(params, results) });
    return this.funcImports.length - 1;
  }

  /** importGlobal declares an imported global and returns its global index. */
  importGlobal(module: string, name: string, type: number, mutable = false): number {
    if (this.globals.length) throw new Error('imports must precede defined globals');
    this.globalImports.push({ module, name, type, mutable });
    return this.globalImports.length - 1;
  }

  /** importMemory declares the one imported memory. */
  importMemory(m: MemoryImport): void {
    this.memory = m;
  }

  /** declareFunc reserves a function index; its body is supplied later with defineFunc. */
  declareFunc(params: number[], results: number[]): number {
    this.funcs.push({ type: this.type(params, results), code: null });
    return this.funcImports.length + this.funcs.length - 1;
  }

  /** defineFunc sets the body of a declared function. */
  defineFunc(index: number, code: Code): void {
    this.funcs[index - this.funcImports.length].code = code;
  }

  /** paramCount tells how many params the declared function has (for Code construction). */
  paramCount(index: number): number {
    return this.types[this.funcs[index - this.funcImports.length].type].params.length;
  }

  /** global defines a mutable global of type i32 or i64 with an initial value. */
  global(type: number, init: bigint | number = 0): number {
    this.globals.push({ type, init: BigInt(init) });
    return this.globalImports.length + this.globals.length - 1;
  }

  /** exportFunc / exportGlobal add exports. */
  exportFunc(name: string, index: number): void {
    this.exports.push({ name, kind: 0, index });
  }
  exportGlobal(name: string, index: number): void {
    this.exports.push({ name, kind: 3, index });
  }

  /** encode produces the module bytes. */
  encode(): Uint8Array {
    const out = new Bytes();
    out.bytes(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    this.section(out, 1, (s) => this.typeSection(s));
    this.section(out, 2, (s) => this.importSection(s));
    this.section(out, 3, (s) => {
      s.u32(this.funcs.length);
      for (const f of this.funcs) s.u32(f.type);
    });
    if (this.globals.length) this.section(out, 6, (s) => this.globalSection(s));
    this.section(out, 7, (s) => {
      s.u32(this.exports.length);
      for (const e of this.exports) {
        s.name(e.name);
        s.byte(e.kind);
        s.u32(e.index);
      }
    });
    const bodies: Array<[Code, number]> = [];
    const start = this.section(out, 10, (s) => {
      s.u32(this.funcs.length);
      for (const f of this.funcs) {
        if (!f.code) throw new Error('function declared but not defined');
        const header = { len: 0 };
        const body = f.code.encode(header);
        s.u32(body.len);
        bodies.push([f.code, s.len + header.len]);
        s.bytes(body.result());
      }
    });
    for (const [code, off] of bodies) code.codeOffset = start + off;
    return out.result().slice();
  }

  /** section appends a section and returns the module offset of its content. */
  private section(out: Bytes, id: number, fill: (s: Bytes) => void): number {
    const s = new Bytes();
    fill(s);
    out.byte(id);
    out.u32(s.len);
    const at = out.len;
    out.bytes(s.result());
    return at;
  }

  private typeSection(s: Bytes): void {
    s.u32(this.types.length);
    for (const t of this.types) {
      s.byte(0x60);
      s.u32(t.params.length);
      for (const p of t.params) s.byte(p);
      s.u32(t.results.length);
      for (const r of t.results) s.byte(r);
    }
  }

  private importSection(s: Bytes): void {
    const n = this.funcImports.length + this.globalImports.length + (this.memory ? 1 : 0);
    s.u32(n);
    if (this.memory) {
      const m = this.memory;
      s.name(m.module);
      s.name(m.name);
      s.byte(0x02);
      const hasMax = m.maxPages !== undefined;
      s.byte((hasMax ? 1 : 0) | (m.shared ? 2 : 0));
      s.u32(m.minPages);
      if (hasMax) s.u32(m.maxPages!);
    }
    for (const f of this.funcImports) {
      s.name(f.module);
      s.name(f.name);
      s.byte(0x00);
      s.u32(f.type);
    }
    for (const g of this.globalImports) {
      s.name(g.module);
      s.name(g.name);
      s.byte(0x03);
      s.byte(g.type);
      s.byte(g.mutable ? 1 : 0);
    }
  }

  private globalSection(s: Bytes): void {
    s.u32(this.globals.length);
    for (const g of this.globals) {
      s.byte(g.type);
      s.byte(1);
      if (g.type === I64) {
        s.byte(Op.i64_const);
        s.s64(g.init);
      } else if (g.type === I32) {
        s.byte(Op.i32_const);
        s.s32(Number(g.init));
      } else {
        throw new Error('unsupported global type');
      }
      s.byte(Op.end);
    }
  }
}
