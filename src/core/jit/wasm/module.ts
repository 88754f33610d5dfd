/**
 * ModuleBuilder: assembles a module from types, imports (functions, globals, one memory),
 * functions, globals and exports, and records where each function's code lands.
 */
import { I32, I64, Op } from './ops.js';
import { Bytes } from './bytes.js';
import type { Code, FuncType } from './code.js';

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
