/**
 * Programs and subprograms: every function symbol of an executable section becomes a
 * function; functions outside `.text` are programs, `.text` holds subprograms. Linking
 * copies a program's code and appends each subprogram it reaches through bpf-to-bpf calls
 * (R_BPF_64_32) or function-pointer loads, fixing the call immediates, as libbpf does. Map
 * and global data references (R_BPF_64_64) stay as InsnReloc records for the runtime.
 */
import { BpfError } from '../errors.js';
import {
  Insn, decode, isLddw, BPF_JMP, BPF_CALL, BPF_CLASS, BPF_OP, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE,
} from '../isa/index.js';
import type { BtfExt, BtfExtSection } from '../btf/index.js';
import { ElfFile, ElfSection, ElfSymbol, ElfReloc, STT_FUNC, STT_SECTION, SHN_UNDEF, R_BPF_64_64, R_BPF_64_32 } from './elf-file.js';
import { InsnReloc, SubprogSpec } from './spec.js';

/** Func is one function of an executable section: slots [start, end) of `sec`. */
export interface Func {
  name: string;
  sec: ElfSection;
  start: number;
  end: number;
  global: boolean;
}

/** SecCode is an executable section decoded, with its parsed relocations by slot. */
export interface SecCode {
  sec: ElfSection;
  insns: Insn[];
  funcs: Func[];
  relocs: Map<number, CodeReloc>;
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
  const insns = decode(sec.data, elf.littleEndian);
  const syms = symbols.filter((s) => s.shndx === sec.index && s.type === STT_FUNC).sort((a, b) => a.value - b.value);
  const funcs: Func[] = [];
  syms.forEach((s, i) => {
    if (s.value % 8 !== 0 || s.size % 8 !== 0) fail('function is not aligned to instructions', sec.name, { symbol: s.name });
    const start = s.value / 8;
    const end = s.size ? start + s.size / 8 : i + 1 < syms.length ? syms[i + 1].value / 8 : insns.length;
    if (end > insns.length || end <= start) fail(`function spans slots ${start}..${end} outside ${insns.length}`, sec.name, { symbol: s.name });
    if (funcs.some((f) => f.start === start)) return; // aliases
    funcs.push({ name: s.name, sec, start, end, global: s.bind !== 0 });
  });
  // Hand-written objects may lack function symbols: the section is one program.
  if (funcs.length === 0 && insns.length) funcs.push({ name: sec.name, sec, start: 0, end: insns.length, global: true });
  return { sec, insns, funcs, relocs: new Map() };
}

/** classifyRelocs attaches the relocations of one code section to its slots. */
export function classifyRelocs(code: SecCode, rels: ElfReloc[], t: RelocTargets): void {
  const secName = code.sec.name;
  for (const r of rels) {
    if (r.offset % 8 !== 0 || r.offset / 8 >= code.insns.length) fail(`relocation offset ${r.offset} is not an instruction`, secName);
    const at = r.offset / 8;
    const sym = t.symbols[r.symbol];
    if (!sym) fail(`relocation refers to missing symbol ${r.symbol}`, secName, { insn: at });
    const ins = code.insns[at];
    code.relocs.set(at, classify(r, sym, ins, at, code, t));
  }
  // Calls inside one section need no relocation: clang already wrote the relative target.
  // (The second slot of lddw has opcode 0, so it never looks like a call.)
  code.insns.forEach((ins, at) => {
    if (!code.relocs.has(at) && isPseudoCall(ins)) {
      code.relocs.set(at, { kind: 'call', sec: code.sec.index, target: at + ins.imm + 1 });
    }
  });
}

function isPseudoCall(ins: Insn): boolean {
  return BPF_CLASS(ins.code) === BPF_JMP && BPF_OP(ins.code) === BPF_CALL && ins.src === BPF_PSEUDO_CALL;
}


function classify(r: ElfReloc, sym: ElfSymbol, ins: Insn, at: number, code: SecCode, t: RelocTargets): CodeReloc {
  const where = { insn: at, symbol: sym.name || undefined };
  const sec = code.sec.name;
  if (r.type === R_BPF_64_32) {
    if (!isPseudoCall(ins)) fail('R_BPF_64_32 relocation is not on a bpf-to-bpf call', sec, where);
    if (!t.isCode(sym.shndx)) fail('call target is not in an executable section', sec, where);
    return { kind: 'call', sec: sym.shndx, target: sym.value / 8 + ins.imm + 1 };
  }
  if (r.type !== R_BPF_64_64) fail(`unsupported relocation type ${r.type} in code`, sec, where);
  if (!isLddw(ins) || at + 1 >= code.insns.length) fail('R_BPF_64_64 relocation is not on lddw', sec, where);
  if (sym.shndx === SHN_UNDEF) fail('extern symbols (kconfig, ksym) are not supported', sec, where);
  const imm = ins.imm;
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
  const place = (f: Func): number => {
    const base = out.insns.length;
    placed.set(f, base);
    if (f !== main) out.subprograms.push({ name: f.name, insn: base });
    const code = codes.get(f.sec.index)!;
    for (let i = f.start; i < f.end; i++) out.insns.push({ ...code.insns[i] });
    for (const [i, r] of code.relocs) {
      if (i < f.start || i >= f.end) continue;
      const at = base + i - f.start;
      // A corrupt symbol size can end a function between the two slots of an lddw.
      if (r.kind !== 'call' && i + 1 >= f.end) fail(`lddw at slot ${i} is cut by the end of function ${f.name}`, f.sec.name, { insn: i, symbol: f.name });
      if ('map' in r) out.relocations.push(mapReloc(out.insns, at, r));
      else pending.push({ at, r });
    }
    moveExt(ext?.sections.get(f.sec.name), f, base, out.ext);
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
  return out;
}

function mapReloc(insns: Insn[], at: number, r: Extract<CodeReloc, { map: string }>): InsnReloc {
  // The runtime fills in the immediates; the pseudo source already says what they will mean.
  insns[at].src = r.kind === 'map' ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE;
  insns[at].imm = 0;
  insns[at + 1].imm = 0;
  return { insn: at, kind: r.kind, map: r.map, offset: r.offset };
}

function moveExt(src: BtfExtSection | undefined, f: Func, base: number, dst: BtfExtSection): void {
  if (!src) return;
  const inside = (i: number) => i >= f.start && i < f.end;
  const move = (i: number) => base + i - f.start;
  for (const x of src.funcInfo) if (inside(x.insn)) dst.funcInfo.push({ ...x, insn: move(x.insn) });
  for (const x of src.lineInfo) if (inside(x.insn)) dst.lineInfo.push({ ...x, insn: move(x.insn) });
  for (const x of src.coreRelos) if (inside(x.insn)) dst.coreRelos.push({ ...x, insn: move(x.insn) });
}
