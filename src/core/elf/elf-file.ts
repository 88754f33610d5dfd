/**
 * ELF64 reader: file header, section headers with names, symbol table and REL/RELA
 * relocations, in either byte order. It knows nothing about BPF beyond the constants it
 * exports; object-spec.ts gives the sections their BPF meaning. Every read is bounds-checked
 * and every problem is a BpfError('E_ELF') naming the section or offset.
 */
import { BpfError } from '../errors.js';
import { ByteView } from './bytes.js';

/** ELF constants used by BPF objects (include/uapi/linux/elf.h, /usr/include/elf.h). */
export const ET_REL = 1;
/** EM_BPF is the machine number of eBPF objects. */
export const EM_BPF = 247;
/** Section types. */
export const SHT_NULL = 0, SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_RELA = 4, SHT_NOBITS = 8, SHT_REL = 9;
/** Section flags. */
export const SHF_WRITE = 0x1, SHF_ALLOC = 0x2, SHF_EXECINSTR = 0x4;
/** Symbol types (low nibble of st_info). */
export const STT_NOTYPE = 0, STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3, STT_FILE = 4;
/** Symbol bindings (high nibble of st_info). */
export const STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2;
/** Special section indices. */
export const SHN_UNDEF = 0, SHN_ABS = 0xfff1, SHN_COMMON = 0xfff2, SHN_XINDEX = 0xffff;
/** BPF relocation types (Documentation/bpf/llvm_reloc.rst). */
export const R_BPF_NONE = 0, R_BPF_64_64 = 1, R_BPF_64_ABS64 = 2, R_BPF_64_ABS32 = 3, R_BPF_64_NODYLD32 = 4, R_BPF_64_32 = 10;

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;

/** ElfSection is one section header with its name and contents (empty for NOBITS). */
export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** data is a view of the section's bytes; NOBITS sections (.bss) have none in the file */
  data: Uint8Array;
}

/** ElfSymbol is one symbol table entry. */
export interface ElfSymbol {
  index: number;
  name: string;
  type: number;
  bind: number;
  visibility: number;
  shndx: number;
  value: number;
  size: number;
}

/** ElfReloc is one REL or RELA entry; REL entries have addend 0n. */
export interface ElfReloc {
  offset: number;
  type: number;
  symbol: number;
  addend: bigint;
}

/** ElfFile is a parsed ELF64 file header and its sections. */
export interface ElfFile {
  littleEndian: boolean;
  type: number;
  machine: number;
  flags: number;
  sections: ElfSection[];
  /** view reads the whole file in its byte order */
  view: ByteView;
}

function fail(message: string, section?: string): never {
  throw new BpfError('E_ELF', message, section === undefined ? {} : { section });
}

/** parseElf reads the ELF64 header and section headers of `bytes`. */
export function parseElf(bytes: Uint8Array): ElfFile {
  if (bytes.length < EHDR_SIZE) fail(`file too short for an ELF header (${bytes.length} bytes)`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) fail('not an ELF file (bad magic)');
  if (bytes[4] !== 2) fail(`not a 64-bit ELF file (class ${bytes[4]})`);
  if (bytes[5] !== 1 && bytes[5] !== 2) fail(`unknown ELF byte order ${bytes[5]}`);
  const view = new ByteView(bytes, bytes[5] === 1, 'E_ELF', 'elf');
  const shoff = view.u64n(40, 'e_shoff');
  const shentsize = view.u16(58, 'e_shentsize');
  let shnum = view.u16(60, 'e_shnum');
  let shstrndx = view.u16(62, 'e_shstrndx');
  if (shoff === 0) fail('file has no section headers');
  if (shentsize !== SHDR_SIZE) fail(`unexpected section header size ${shentsize}`);
  // Extended numbering: counts that do not fit 16 bits live in section 0.
  if (shnum === 0) shnum = view.u64n(shoff + 32, 'section 0 sh_size');
  if (shstrndx === SHN_XINDEX) shstrndx = view.u32(shoff + 40, 'section 0 sh_link');
  view.check(shoff, shnum * SHDR_SIZE, 'section header table');
  const sections: ElfSection[] = [];
  const nameOffs: number[] = [];
  for (let i = 0; i < shnum; i++) {
    sections.push(readSection(view, shoff + i * SHDR_SIZE, i));
    nameOffs.push(view.u32(shoff + i * SHDR_SIZE, `section ${i} sh_name`));
  }
  const names = sections[shstrndx];
  if (!names || names.type !== SHT_STRTAB) fail(`section name table index ${shstrndx} is not a string table`);
  for (const s of sections) s.name = stringAt(names, nameOffs[s.index], `name of section ${s.index}`);
  return { littleEndian: view.littleEndian, type: view.u16(16, 'e_type'), machine: view.u16(18, 'e_machine'), flags: view.u32(48, 'e_flags'), sections, view };
}

function readSection(view: ByteView, at: number, index: number): ElfSection {
  const type = view.u32(at + 4, `section ${index} sh_type`);
  const offset = view.u64n(at + 24, `section ${index} sh_offset`);
  const size = view.u64n(at + 32, `section ${index} sh_size`);
  const s: ElfSection = {
    index, name: '', type,
    flags: Number(view.u64(at + 8, `section ${index} sh_flags`) & 0xffffffffn),
    offset, size,
    link: view.u32(at + 40, `section ${index} sh_link`),
    info: view.u32(at + 44, `section ${index} sh_info`),
    addralign: view.u64n(at + 48, `section ${index} sh_addralign`),
    entsize: view.u64n(at + 56, `section ${index} sh_entsize`),
    data: new Uint8Array(0),
  };
  if (type !== SHT_NOBITS && type !== SHT_NULL) {
    if (offset + size > view.length) fail(`section ${index} data at offset ${offset} (+${size}) is outside the file`);
    s.data = view.bytes.subarray(offset, offset + size);
  }
  return s;
}

/** stringAt reads a NUL-terminated string from a string table section. */
export function stringAt(strtab: ElfSection, off: number, what: string): string {
  if (off >= strtab.data.length && off !== 0) fail(`${what}: string offset ${off} is outside ${strtab.name || 'string table'} (${strtab.data.length} bytes)`, strtab.name);
  if (strtab.data.length === 0) return '';
  let end = off;
  while (end < strtab.data.length && strtab.data[end] !== 0) end++;
  if (end === strtab.data.length) fail(`${what}: string at offset ${off} is not NUL-terminated`, strtab.name);
  return new TextDecoder().decode(strtab.data.subarray(off, end));
}

/** sectionView returns a bounds-checked reader over one section's bytes. */
export function sectionView(elf: ElfFile, s: ElfSection): ByteView {
  return new ByteView(s.data, elf.littleEndian, 'E_ELF', `section ${s.name || s.index}`);
}

/** findSection returns the first section with `name`, or undefined. */
export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/** readSymbols reads the (single) SYMTAB section; an object without one has no symbols. */
export function readSymbols(elf: ElfFile): ElfSymbol[] {
  const tab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (!tab) return [];
  if (tab.entsize !== SYM_SIZE) fail(`symbol table entry size ${tab.entsize}, expected ${SYM_SIZE}`, tab.name);
  if (tab.size % SYM_SIZE !== 0) fail(`symbol table size ${tab.size} is not a multiple of ${SYM_SIZE}`, tab.name);
  const strtab = elf.sections[tab.link];
  if (!strtab || strtab.type !== SHT_STRTAB) fail(`symbol table links to section ${tab.link}, not a string table`, tab.name);
  const v = sectionView(elf, tab);
  const out: ElfSymbol[] = [];
  for (let i = 0, at = 0; at < tab.size; i++, at += SYM_SIZE) {
    const info = v.u8(at + 4, `symbol ${i} st_info`);
    out.push({
      index: i,
      name: stringAt(strtab, v.u32(at, `symbol ${i} st_name`), `name of symbol ${i}`),
      type: info & 0xf,
      bind: info >> 4,
      visibility: v.u8(at + 5, `symbol ${i} st_other`) & 3,
      shndx: v.u16(at + 6, `symbol ${i} st_shndx`),
      value: v.u64n(at + 8, `symbol ${i} st_value`),
      size: v.u64n(at + 16, `symbol ${i} st_size`),
    });
  }
  return out;
}

/** readRelocations reads the entries of one REL or RELA section. */
export function readRelocations(elf: ElfFile, s: ElfSection): ElfReloc[] {
  if (s.type !== SHT_REL && s.type !== SHT_RELA) fail(`section is not a relocation section (type ${s.type})`, s.name);
  const rela = s.type === SHT_RELA;
  const size = rela ? RELA_SIZE : REL_SIZE;
  if (s.size % size !== 0) fail(`relocation section size ${s.size} is not a multiple of ${size}`, s.name);
  const v = sectionView(elf, s);
  const out: ElfReloc[] = [];
  for (let at = 0; at < s.size; at += size) {
    const info = v.u64(at + 8, `relocation at ${at} r_info`);
    out.push({
      offset: v.u64n(at, `relocation at ${at} r_offset`),
      type: Number(info & 0xffffffffn),
      symbol: Number(info >> 32n),
      addend: rela ? BigInt.asIntN(64, v.u64(at + 16, `relocation at ${at} r_addend`)) : 0n,
    });
  }
  return out;
}
