/**
 * parseObject: a clang-compiled BPF ELF object (either byte order) to an ObjectSpec, the
 * plain data the runtime needs to create maps and load programs. Nothing live is created
 * here: map references stay as relocation records. Errors are BpfError('E_ELF') naming the
 * section and symbol, or E_BTF for broken type information.
 */
import { BpfError, isBpfError } from '../errors.js';
import { Btf, BtfExt, parseBtf, parseBtfExt, typeById } from '../btf/index.js';
import {
  ElfFile, ElfSection, ElfSymbol, parseElf, readSymbols, readRelocations, sectionView, findSection,
  EM_BPF, ET_REL, SHT_PROGBITS, SHT_REL, SHT_RELA, SHF_EXECINSTR, STT_SECTION,
} from './elf-file.js';
import { MapSpec, ObjectSpec, ProgramSpec } from './spec.js';
import { legacyMaps, btfMaps, dataMap, isDataSection } from './maps.js';
import { SecCode, decodeSection, classifyRelocs, linkProgram, Func } from './programs.js';
import { matchSection } from './sec-defs.js';
import { defineLazy } from '../btf/lazy.js';

/** parseObject parses an ELF BPF object into plain specs. */
export function parseObject(bytes: Uint8Array): ObjectSpec {
  return parseObjectRaw(bytes).spec;
}

/** parseObjectRaw is parseObject also returning the raw `.BTF` section (a view into `bytes`), for openObject. */
export function parseObjectRaw(bytes: Uint8Array): { spec: ObjectSpec; btfSection: Uint8Array | null } {
  try {
    return parse(bytes);
  } catch (e) {
    if (isBpfError(e)) throw e;
    // Anything else is a bug in a parser, but input must never crash the host.
    throw new BpfError('E_ELF', `malformed object: ${(e as Error)?.message ?? String(e)}`, {}, { cause: e });
  }
}

function parse(bytes: Uint8Array): { spec: ObjectSpec; btfSection: Uint8Array | null } {
  const elf = parseElf(bytes);
  if (elf.machine !== EM_BPF) throw new BpfError('E_ELF', `not a BPF object (machine ${elf.machine})`);
  if (elf.type !== ET_REL) throw new BpfError('E_ELF', `not a relocatable object (type ${elf.type})`);
  const symbols = readSymbols(elf);
  const btf = readBtf(elf);
  const btfExt = btf ? readBtfExt(elf, btf) : null;
  const license = readLicense(elf);
  const kernVersion = readVersion(elf);
  const maps = readMaps(elf, btf, symbols);
  if (btf) fixDatasecs(btf, elf, symbols);
  const codes = readCode(elf, symbols, maps);
  const programs: ProgramSpec[] = [];
  for (const code of codes.values()) {
    if (code.sec.name === '.text') continue;
    for (const f of code.funcs) programs.push(programSpec(f, codes, btfExt, license, kernVersion));
  }
  const spec = { littleEndian: elf.littleEndian, license, kernVersion, programs, maps, btf, btfExt };
  return { spec, btfSection: btf ? findSection(elf, '.BTF')!.data : null };
}

function readBtf(elf: ElfFile): Btf | null {
  const s = findSection(elf, '.BTF');
  return s ? parseBtf(s.data) : null;
}

function readBtfExt(elf: ElfFile, btf: Btf): BtfExt | null {
  const s = findSection(elf, '.BTF.ext');
  return s ? parseBtfExt(s.data, btf) : null;
}

function readLicense(elf: ElfFile): string {
  const s = findSection(elf, 'license');
  if (!s || s.size === 0) return '';
  const end = s.data.indexOf(0);
  return new TextDecoder().decode(s.data.subarray(0, end < 0 ? s.data.length : end));
}

function readVersion(elf: ElfFile): number {
  const s = findSection(elf, 'version');
  if (!s) return 0;
  if (s.size !== 4) throw new BpfError('E_ELF', `version section has ${s.size} bytes, expected 4`, { section: 'version' });
  return sectionView(elf, s).u32(0, 'kernel version');
}

function relocsFor(elf: ElfFile, target: ElfSection) {
  return elf.sections
    .filter((s) => (s.type === SHT_REL || s.type === SHT_RELA) && s.info === target.index)
    .flatMap((s) => readRelocations(elf, s));
}

function readMaps(elf: ElfFile, btf: Btf | null, symbols: ElfSymbol[]): MapSpec[] {
  const maps: MapSpec[] = [];
  for (const s of elf.sections) {
    if (s.name === 'maps') maps.push(...legacyMaps(elf, s, symbols));
    else if (s.name === '.maps') maps.push(...btfMaps(btf, s, symbols, relocsFor(elf, s)));
    else if (isDataSection(s) && s.size > 0) maps.push(dataMap(btf, s));
  }
  const seen = new Set<string>();
  for (const m of maps) {
    if (seen.has(m.name)) throw new BpfError('E_ELF', `duplicate map name ${m.name}`, { section: m.section, symbol: m.name });
    seen.add(m.name);
  }
  return maps;
}

function readCode(elf: ElfFile, symbols: ElfSymbol[], maps: MapSpec[]): Map<number, SecCode> {
  const codes = new Map<number, SecCode>();
  for (const s of elf.sections) {
    if (s.type === SHT_PROGBITS && s.flags & SHF_EXECINSTR && s.size > 0) codes.set(s.index, decodeSection(elf, s, symbols));
  }
  const mapSections = new Set(elf.sections.filter((s) => s.name === 'maps' || s.name === '.maps').map((s) => s.index));
  const dataNames = new Map(elf.sections.filter((s) => maps.some((m) => m.initialValue && m.name === s.name)).map((s) => [s.index, s.name]));
  const targets = {
    symbols,
    mapAt(shndx: number, _sym: ElfSymbol, offset: number): string | undefined {
      if (!mapSections.has(shndx)) return undefined;
      const def = symbols.find((x) => x.shndx === shndx && x.type !== STT_SECTION && x.name && x.value === offset);
      if (!def) throw new BpfError('E_ELF', `no map is defined at offset ${offset}`, { section: elf.sections[shndx].name });
      return def.name;
    },
    dataSection: (shndx: number) => dataNames.get(shndx),
    isCode: (shndx: number) => codes.has(shndx),
  };
  for (const code of codes.values()) classifyRelocs(code, relocsFor(elf, code.sec), targets);
  return codes;
}

function programSpec(f: Func, codes: Map<number, SecCode>, ext: BtfExt | null, license: string, kernVersion: number): ProgramSpec {
  const sec = matchSection(f.sec.name);
  const linked = linkProgram(f, codes, ext);
  const spec: ProgramSpec = {
    name: f.name, sectionName: f.sec.name, type: sec.progType, expectedAttachType: sec.attachType, attachTo: sec.attachTo,
    sleepable: sec.sleepable, xdpFrags: sec.xdpFrags, license, kernVersion,
    insns: linked.insns, relocations: linked.relocations, subprograms: linked.subprograms,
    funcInfo: linked.ext.funcInfo, lineInfo: [], coreRelos: linked.ext.coreRelos,
  };
  defineLazy(spec, 'lineInfo', () => linked.ext.lineInfo); // decoded when first read
  return spec;
}

// fixDatasecs fills in what clang leaves for the loader: DATASEC sizes from the ELF section
// and variable offsets from the symbol table, as libbpf does before loading BTF.
function fixDatasecs(btf: Btf, elf: ElfFile, symbols: ElfSymbol[]): void {
  for (const t of btf.types) {
    if (t.kind !== 'datasec') continue;
    const sec = findSection(elf, t.name);
    if (!sec) continue;
    if (t.size === 0) t.size = sec.size;
    for (const v of t.vars) {
      const name = typeById(btf, v.type).name;
      const sym = symbols.find((s) => s.shndx === sec.index && s.name === name);
      if (sym) v.offset = sym.value;
    }
  }
}
