/**
 * Map definitions: the legacy `maps` section (struct bpf_map_def, one symbol per map),
 * BTF-defined `.maps` (anonymous structs built from __uint/__type/__array, with initial slots
 * for prog arrays and maps of maps taken from `.rel.maps`), and global data sections
 * (.data, .rodata, .bss, .rodata.str1.1 ...) as one-entry arrays holding their bytes.
 */
import { BpfError } from '../errors.js';
import { Btf, BtfComposite, BtfDatasec, typeById, skipQualifiers, typeSize, findType } from '../btf/index.js';
import { ElfFile, ElfSection, ElfSymbol, ElfReloc, sectionView, SHT_NOBITS, SHF_ALLOC, STT_SECTION, R_BPF_64_ABS64 } from './elf-file.js';
import { MapSpec, mapTypeName, MAP_TYPES, BPF_F_MMAPABLE, BPF_F_RDONLY_PROG } from './spec.js';

function fail(message: string, section: string, symbol?: string): never {
  throw new BpfError('E_ELF', message, symbol === undefined ? { section } : { section, symbol });
}

function blankMap(name: string, section: string): MapSpec {
  return {
    name, section, type: 'unspec', typeId: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, pinning: 'none',
    numaNode: 0, mapExtra: 0n, btfKeyTypeId: 0, btfValueTypeId: 0, innerMap: null, contents: [], initialValue: null,
  };
}

function setType(m: MapSpec, n: number): void {
  m.typeId = n;
  m.type = mapTypeName(n);
}

// Legacy bpf_map_def fields, in order; later fields are optional.
const LEGACY_FIELDS = ['type', 'keySize', 'valueSize', 'maxEntries', 'flags', 'innerMapIdx', 'numaNode'] as const;

/** legacyMaps reads struct bpf_map_def entries of the `maps` section. */
export function legacyMaps(elf: ElfFile, sec: ElfSection, symbols: ElfSymbol[]): MapSpec[] {
  const syms = symbols.filter((s) => s.shndx === sec.index && s.type !== STT_SECTION && s.name !== '').sort((a, b) => a.value - b.value);
  if (sec.type === SHT_NOBITS) fail('legacy map definitions have no data', sec.name);
  const v = sectionView(elf, sec);
  const fallbackSize = syms.length ? Math.floor(sec.size / syms.length) : 0;
  return syms.map((s) => {
    const size = s.size || fallbackSize;
    if (size < 16 || size % 4 !== 0) fail(`map definition of ${size} bytes is too short or misaligned`, sec.name, s.name);
    const m = blankMap(s.name, sec.name);
    const vals = LEGACY_FIELDS.slice(0, Math.min(size / 4, LEGACY_FIELDS.length)).map((f, i) => v.u32(s.value + i * 4, `map ${s.name} ${f}`));
    setType(m, vals[0]);
    [m.keySize, m.valueSize, m.maxEntries, m.flags = 0] = vals.slice(1);
    m.numaNode = vals[6] ?? 0;
    return m;
  });
}

/** btfMaps reads the BTF-defined maps of `.maps`. */
export function btfMaps(btf: Btf | null, sec: ElfSection, symbols: ElfSymbol[], rels: ElfReloc[]): MapSpec[] {
  if (!btf) fail('.maps needs BTF, and the object has no .BTF section', sec.name);
  const ds = findType(btf, 'datasec', sec.name);
  if (!ds) fail(`no BTF DATASEC describes ${sec.name}`, sec.name);
  const out: { spec: MapSpec; offset: number; size: number; valuesAt: number }[] = [];
  for (const si of ds.vars) {
    const v = typeById(btf, si.type);
    if (v.kind !== 'var') fail(`DATASEC entry type [${si.type}] is a ${v.kind}, not a VAR`, sec.name);
    const sym = symbols.find((s) => s.shndx === sec.index && s.name === v.name);
    if (!sym) fail('map variable has no symbol', sec.name, v.name);
    const { spec, valuesAt } = mapDef(btf, v.type, v.name, sec.name);
    // The symbol size covers initialised __array slots beyond the struct's flexible array.
    out.push({ spec, offset: sym.value, size: Math.max(sym.size, typeSize(btf, v.type)), valuesAt });
  }
  for (const r of rels) addSlot(out, r, symbols, sec.name);
  return out.map((x) => x.spec);
}

function addSlot(maps: { spec: MapSpec; offset: number; size: number; valuesAt: number }[], r: ElfReloc, symbols: ElfSymbol[], sec: string): void {
  const m = maps.find((x) => r.offset >= x.offset && r.offset < x.offset + x.size);
  if (!m) fail(`relocation at offset ${r.offset} is outside every map definition`, sec);
  if (r.type !== R_BPF_64_ABS64) fail(`unexpected relocation type ${r.type} in map ${m.spec.name}`, sec, m.spec.name);
  const at = r.offset - m.offset - m.valuesAt;
  if (m.valuesAt < 0 || at < 0 || at % 8 !== 0) fail(`relocation at offset ${r.offset} is not in the values array`, sec, m.spec.name);
  const target = symbols[r.symbol];
  if (!target) fail(`relocation refers to missing symbol ${r.symbol}`, sec, m.spec.name);
  const key = at / 8;
  if (key >= m.spec.maxEntries) fail(`initial value at index ${key} is beyond max_entries ${m.spec.maxEntries}`, sec, m.spec.name);
  m.spec.contents.push({ key, name: target.name });
}

const UINT_FIELDS: Record<string, (m: MapSpec, v: number) => void> = {
  type: (m, v) => setType(m, v),
  max_entries: (m, v) => { m.maxEntries = v; },
  map_flags: (m, v) => { m.flags = v; },
  numa_node: (m, v) => { m.numaNode = v; },
  key_size: (m, v) => { m.keySize = v; },
  value_size: (m, v) => { m.valueSize = v; },
  pinning: (m, v) => { m.pinning = v === 0 ? 'none' : v === 1 ? 'by_name' : fail(`unknown pinning ${v}`, m.section, m.name); },
  map_extra: (m, v) => { m.mapExtra = BigInt(v); },
};

// uintValue decodes __uint(name, val): a pointer to an array of `val` ints.
function uintValue(btf: Btf, id: number, map: string, field: string, sec: string): number {
  const p = skipQualifiers(btf, id);
  const a = p.kind === 'ptr' ? skipQualifiers(btf, p.type) : p;
  if (p.kind !== 'ptr' || a.kind !== 'array') fail(`field ${field} is not declared with __uint`, sec, map);
  return a.nelems;
}

// mapDef decodes one BTF map definition struct; valuesAt is the byte offset of `values` or -1.
function mapDef(btf: Btf, id: number, name: string, sec: string, inner = false): { spec: MapSpec; valuesAt: number } {
  const st = skipQualifiers(btf, id);
  if (st.kind !== 'struct') fail(`map definition is a ${st.kind}, not a struct`, sec, name);
  const m = blankMap(name, sec);
  let valuesAt = -1;
  for (const f of (st as BtfComposite).members) {
    const setter = UINT_FIELDS[f.name];
    if (setter) setter(m, uintValue(btf, f.type, name, f.name, sec));
    else if (f.name === 'key' || f.name === 'value') typeField(btf, m, f.name, f.type);
    else if (f.name === 'values') {
      // as libbpf: an inner map template cannot itself hold maps (corrupt BTF could loop here)
      if (inner) fail('inner map definition has values: multi-level maps of maps are not supported', sec, name);
      valuesAt = f.bitOffset / 8;
      valuesField(btf, m, f.type);
    } else fail(`unknown map definition field ${f.name}`, sec, name);
  }
  return { spec: m, valuesAt };
}

function typeField(btf: Btf, m: MapSpec, field: 'key' | 'value', id: number): void {
  const p = skipQualifiers(btf, id);
  if (p.kind !== 'ptr') fail(`field ${field} is not declared with __type`, m.section, m.name);
  const size = typeSize(btf, p.type);
  if (field === 'key') [m.btfKeyTypeId, m.keySize] = [p.type, size];
  else [m.btfValueTypeId, m.valueSize] = [p.type, size];
}

// valuesField handles __array(values, ...): inner map template or program signature.
function valuesField(btf: Btf, m: MapSpec, id: number): void {
  const a = skipQualifiers(btf, id);
  if (a.kind !== 'array') fail('field values is not declared with __array', m.section, m.name);
  const p = skipQualifiers(btf, a.type);
  if (p.kind !== 'ptr') fail('values array does not hold pointers', m.section, m.name);
  const target = skipQualifiers(btf, p.type);
  if (target.kind === 'struct') m.innerMap = mapDef(btf, target.id, `${m.name}.inner`, m.section, true).spec;
  else if (target.kind !== 'func_proto') fail(`values array holds pointers to ${target.kind}`, m.section, m.name);
  if (m.valueSize === 0) m.valueSize = 4; // program or map fds
}

const MAX_DATA_VALUE = 1 << 22;

/** isDataSection tells whether a section is global data libbpf turns into an array map. */
export function isDataSection(s: ElfSection): boolean {
  if (!(s.flags & SHF_ALLOC)) return false;
  return ['.data', '.rodata', '.bss'].includes(s.name) || /^\.(data|rodata|bss)\./.test(s.name);
}

/** dataMap builds the array map of one global data section. */
export function dataMap(btf: Btf | null, s: ElfSection): MapSpec {
  const m = blankMap(s.name, s.name);
  setType(m, MAP_TYPES.indexOf('array'));
  m.keySize = 4;
  m.valueSize = s.size;
  m.maxEntries = 1;
  m.flags = BPF_F_MMAPABLE | (s.name.startsWith('.rodata') ? BPF_F_RDONLY_PROG : 0);
  // .bss has no bytes in the file: its size alone must not make us allocate without bound
  // (an array map value holds at most KMALLOC_MAX_SIZE, 4 MiB, in the kernel and in tsbpf)
  if (s.type === SHT_NOBITS && s.size > MAX_DATA_VALUE) fail(`${s.size} bytes of zero-initialised data exceed an array map value (${MAX_DATA_VALUE} bytes)`, s.name);
  m.initialValue = s.type === SHT_NOBITS ? new Uint8Array(s.size) : s.data.slice();
  const ds: BtfDatasec | undefined = btf ? findType(btf, 'datasec', s.name) : undefined;
  if (ds) m.btfValueTypeId = ds.id;
  return m;
}
