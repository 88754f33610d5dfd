/**
 * Code: one function body under construction (declared locals and the instruction stream),
 * with typed emit helpers so the code generator reads like the text format.
 */
import { Op, PREFIX_ATOMIC, PREFIX_FC } from './ops.js';
import { Bytes } from './bytes.js';

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
