/**
 * Programs and subprograms: every function symbol of an executable section becomes a
 * function; functions outside `.text` are programs, `.text` holds subprograms. Linking
 * copies a program's code and appends each subprogram it reaches through bpf-to-bpf calls
 * (R_BPF_64_32) or function-pointer loads, fixing the call immediates, as libbpf does. Map
 * and global data references (R_BPF_64_64) stay as InsnReloc records for the runtime.
 */
import { BpfError } from '../errors.js';
import {
  Insn, decode, BPF_LD, BPF_IMM, BPF_DW, BPF_JMP, BPF_CALL, BPF_CLASS, BPF_OP, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE,
} from '../isa/index.js';
import type { BtfExt, BtfExtSection } from '../btf/index.js';
import { ElfFile, ElfSection, ElfSymbol, ElfReloc, STT_FUNC, STT_SECTION, SHN_UNDEF, R_BPF_64_64, R_BPF_64_32 } from './elf-file.js';
import { InsnReloc, SubprogSpec } from './spec.js';
import { defineLazy } from '../btf/lazy.js';

const LDDW = BPF_LD | BPF_IMM | BPF_DW;

/** Func is one function of an executable section: slots [start, end) of `sec`. */
export interface Func {
  name: string;
  sec: ElfSection;
  start: number;
  end: number;
  global: boolean;
}

/**
 * SecCode is an executable section with its functions and its relocations by slot. Its code
 * stays raw bytes (read through `slots`): each program decodes the slots it places, so no
 * slot is decoded twice or copied.
 */
export interface SecCode {
  sec: ElfSection;
  slots: Slots;
  funcs: Func[];
  relocs: Map<number, CodeReloc>;
}

/** Slots reads fields of raw instruction slots in the object's byte order. */
export class Slots {
  readonly length: number;
  private readonly dv: DataView;
  constructor(readonly bytes: Uint8Array, readonly littleEndian: boolean) {
    this.length = bytes.length >> 3;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** code is the opcode byte of slot `at`. */
  code(at: number): number {
    return this.bytes[at * 8];
  }

  /** src is the source register of slot `at` (big-endian objects swap the nibbles). */
  src(at: number): number {
    const r = this.bytes[at * 8 + 1];
    return this.littleEndian ? r >> 4 : r & 0xf;
  }

  /** imm is the signed 32-bit immediate of slot `at`. */
  imm(at: number): number {
    return this.dv.getInt32(at * 8 + 4, this.littleEndian);
  }

  /** decode returns fresh instruction objects for slots [start, end). */
  decode(start: number, end: number): Insn[] {
    return decode(this.bytes.subarray(start * 8, end * 8), this.littleEndian);
  }

  /** isPseudoCall tells whether slot `at` is a bpf-to-bpf call (BPF_JMP | BPF_CALL, src BPF_PSEUDO_CALL). */
  isPseudoCall(at: number): boolean {
    const c = this.code(at);
    return BPF_CLASS(c) === BPF_JMP && BPF_OP(c) === BPF_CALL && this.src(at) === BPF_PSEUDO_CALL;
  }
}

/** CodeReloc is a relocation of one slot, classified. */
export type CodeReloc =
  | { kind: 'map' | 'map_value'; map: string; offset: number }
  | { kind: 'call' | 'func_ptr'; sec: number; target: number };

/** Classifier names the map or data section a symbol refers to. */
export interface RelocTargets {
  symbols: ElfSymbol[];
  /** mapAt returns the map defined at `offset` of a map section, if `shndx` is one */
  mapAt(shndx: number, sym: ElfSymbol, offset: number): string | undefined;
  /** dataSection returns the name of a global data section, if `shndx` is one */
  dataSection(shndx: number): string | undefined;
  isCode(shndx: number): boolean;
}

function fail(message: string, section: string, extra: { insn?: number; symbol?: string } = {}): never {
  throw new BpfError('E_ELF', message, { section, ...extra });
}

/** decodeSection reads the slots and functions of one executable section. */
export function decodeSection(elf: ElfFile, sec: ElfSection, symbols: ElfSymbol[]): SecCode {
  if (sec.size % 8 !== 0) fail(`code size ${sec.size} is not a multiple of 8`, sec.name);
  const slots = new Slots(sec.data, elf.littleEndian);
  const count = slots.length;
  const syms = symbols.filter((s) => s.shndx === sec.index && s.type === STT_FUNC).sort((a, b) => a.value - b.value);
  const funcs: Func[] = [];
  syms.forEach((s, i) => {
    if (s.value % 8 !== 0 || s.size % 8 !== 0) fail('function is not aligned to instructions', sec.name, { symbol: s.name });
    const start = s.value / 8;
    const end = s.size ? start + s.size / 8 : i + 1 < syms.length ? syms[i + 1].value / 8 : count;
    if (end > count || end <= start) fail(`function spans slots ${start}..${end} outside ${count}`, sec.name, { symbol: s.name });
    if (funcs.some((f) => f.start === start)) return; // aliases
    funcs.push({ name: s.name, sec, start, end, global: s.bind !== 0 });
  });
  // Hand-written objects may lack function symbols: the section is one program.
  if (funcs.length === 0 && count) funcs.push({ name: sec.name, sec, start: 0, end: count, global: true });
  return { sec, slots, funcs, relocs: new Map() };
}

/** classifyRelocs attaches the relocations of one code section to its slots. */
export function classifyRelocs(code: SecCode, rels: ElfReloc[], t: RelocTargets): void {
  const secName = code.sec.name, slots = code.slots;
  for (const r of rels) {
    if (r.offset % 8 !== 0 || r.offset / 8 >= slots.length) fail(`relocation offset ${r.offset} is not an instruction`, secName);
    const at = r.offset / 8;
    const sym = t.symbols[r.symbol];
    if (!sym) fail(`relocation refers to missing symbol ${r.symbol}`, secName, { insn: at });
    code.relocs.set(at, classify(r, sym, at, code, t));
  }
  // Calls inside one section need no relocation: clang already wrote the relative target.
  // (The second slot of lddw has opcode 0, so it never looks like a call.)
  for (let at = 0; at < slots.length; at++) {
    if (slots.isPseudoCall(at) && !code.relocs.has(at)) code.relocs.set(at, { kind: 'call', sec: code.sec.index, target: at + slots.imm(at) + 1 });
  }
}

function classify(r: ElfReloc, sym: ElfSymbol, at: number, code: SecCode, t: RelocTargets): CodeReloc {
  const where = { insn: at, symbol: sym.name || undefined };
  const sec = code.sec.name, slots = code.slots;
  if (r.type === R_BPF_64_32) {
    if (!slots.isPseudoCall(at)) fail('R_BPF_64_32 relocation is not on a bpf-to-bpf call', sec, where);
    if (!t.isCode(sym.shndx)) fail('call target is not in an executable section', sec, where);
    return { kind: 'call', sec: sym.shndx, target: sym.value / 8 + slots.imm(at) + 1 };
  }
  if (r.type !== R_BPF_64_64) fail(`unsupported relocation type ${r.type} in code`, sec, where);
  if (slots.code(at) !== LDDW || at + 1 >= slots.length) fail('R_BPF_64_64 relocation is not on lddw', sec, where);
  if (sym.shndx === SHN_UNDEF) fail('extern symbols (kconfig, ksym) are not supported', sec, where);
  const imm = slots.imm(at);
  const map = t.mapAt(sym.shndx, sym, sym.type === STT_SECTION ? imm : sym.value);
  if (map !== undefined) return { kind: 'map', map, offset: 0 };
  const data = t.dataSection(sym.shndx);
  if (data !== undefined) return { kind: 'map_value', map: data, offset: sym.value + imm };
  if (t.isCode(sym.shndx)) return { kind: 'func_ptr', sec: sym.shndx, target: (sym.value + imm) / 8 };
  return fail('lddw refers to a section that is neither a map, data nor code', sec, where);
}

/** Linked is a program's final code with its remaining relocations. */
export interface Linked { insns: Insn[]; relocations: InsnReloc[]; subprograms: SubprogSpec[]; ext: BtfExtSection }

/** linkProgram builds a program's slots: its own code, then every subprogram it reaches. */
export function linkProgram(main: Func, codes: Map<number, SecCode>, ext: BtfExt | null): Linked {
  const out: Linked = { insns: [], relocations: [], subprograms: [], ext: { funcInfo: [], lineInfo: [], coreRelos: [] } };
  const placed = new Map<Func, number>();
  const pending: { at: number; r: Extract<CodeReloc, { sec: number }> }[] = [];
  const lines: Placement[] = [];
  const place = (f: Func): number => {
    const base = out.insns.length;
    placed.set(f, base);
    if (f !== main) out.subprograms.push({ name: f.name, insn: base });
    const code = codes.get(f.sec.index)!;
    const fresh = code.slots.decode(f.start, f.end);
    if (base === 0) out.insns = fresh;
    else for (const x of fresh) out.insns.push(x);
    for (const [i, r] of code.relocs) {
      if (i < f.start || i >= f.end) continue;
      const at = base + i - f.start;
      // A corrupt symbol size can end a function between the two slots of an lddw.
      if (r.kind !== 'call' && i + 1 >= f.end) fail(`lddw at slot ${i} is cut by the end of function ${f.name}`, f.sec.name, { insn: i, symbol: f.name });
      if ('map' in r) out.relocations.push(mapReloc(out.insns, at, r));
      else pending.push({ at, r });
    }
    const src = ext?.sections.get(f.sec.name);
    if (src) {
      moveExt(src.funcInfo, f, base, out.ext.funcInfo);
      moveExt(src.coreRelos, f, base, out.ext.coreRelos);
      lines.push({ src, f, base });
    }
    return base;
  };
  place(main);
  while (pending.length) {
    const { at, r } = pending.shift()!;
    const code = codes.get(r.sec);
    const callee = code?.funcs.find((f) => r.target >= f.start && r.target < f.end);
    if (!code || !callee) fail(`call target slot ${r.target} is not inside a function`, main.sec.name, { insn: at, symbol: main.name });
    const start = (placed.get(callee) ?? place(callee)) + r.target - callee.start;
    const ins = out.insns[at];
    ins.imm = start - at - 1;
    if (r.kind === 'func_ptr') {
      ins.src = BPF_PSEUDO_FUNC;
      out.insns[at + 1].imm = 0;
    }
  }
  // source lines are decoded when first read (error messages, dumps), not for loading
  defineLazy(out.ext, 'lineInfo', () => lines.flatMap((p) => moveExt(p.src.lineInfo, p.f, p.base, [])));
  return out;
}

/** Placement says where a function's BTF.ext records go: the function placed at slot `base`. */
interface Placement { src: BtfExtSection; f: Func; base: number }

function mapReloc(insns: Insn[], at: number, r: Extract<CodeReloc, { map: string }>): InsnReloc {
  // The runtime fills in the immediates; the pseudo source already says what they will mean.
  insns[at].src = r.kind === 'map' ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE;
  insns[at].imm = 0;
  insns[at + 1].imm = 0;
  return { insn: at, kind: r.kind, map: r.map, offset: r.offset };
}

// moveExt appends the records of `src` inside function `f`, re-indexed to its placement at `base`.
function moveExt<T extends { insn: number }>(src: T[], f: Func, base: number, dst: T[]): T[] {
  for (const x of src) if (x.insn >= f.start && x.insn < f.end) dst.push({ ...x, insn: base + x.insn - f.start });
  return dst;
}
