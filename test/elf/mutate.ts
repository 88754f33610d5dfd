/**
 * Seeded mutations of BPF objects for the `elf` fuzz target: random byte changes, changes
 * aimed at the ELF header, the section header table, the symbol table, relocations, code,
 * `.BTF` and `.BTF.ext` (with values chosen to hit bounds: 0, -1, sizes off by one...), and
 * truncations. A mutation is a list of edits so a failure can be shrunk edit by edit.
 */
import { parseElf, SHT_REL, SHT_RELA, SHT_SYMTAB, SHF_EXECINSTR, type ElfSection } from '../../src/core/elf/index.js';

/** Edit is one change: bytes written at `at` (little- or big-endian as the object), or a truncation. */
export type Edit = { at: number; bytes: number[] } | { truncate: number };

/** Corpus entry: an object's bytes and where its interesting parts are. */
export interface CorpusObject {
  name: string;
  bytes: Uint8Array;
  le: boolean;
  shoff: number;
  sections: ElfSection[];
}

/** corpusObject indexes one (valid) object for targeted mutations. */
export function corpusObject(name: string, bytes: Uint8Array): CorpusObject {
  const elf = parseElf(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { name, bytes, le: elf.littleEndian, shoff: Number(dv.getBigUint64(40, elf.littleEndian)), sections: elf.sections };
}

/** Rng is a small deterministic generator (xorshift32) so a seed always gives the same mutation. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed ^ 0x9e3779b9) >>> 0 || 1;
    for (let i = 0; i < 4; i++) this.next();
  }
  /** next returns a uint32. */
  next(): number {
    let s = this.s;
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (this.s = s >>> 0);
  }
  /** int returns an integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  /** pick returns a random element. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

function bytesOf(v: bigint, width: number, le: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < width; i++) out.push(Number((BigInt.asUintN(width * 8, v) >> BigInt(8 * i)) & 0xffn));
  return le ? out : out.reverse();
}

function readField(o: CorpusObject, at: number, width: number): bigint {
  let v = 0n;
  for (let i = 0; i < width; i++) {
    const b = BigInt(o.bytes[at + (o.le ? width - 1 - i : i)] ?? 0);
    v = (v << 8n) | b;
  }
  return v;
}

// interesting picks a value likely to sit on a boundary for a field currently holding `orig`.
function interesting(r: Rng, o: CorpusObject, orig: bigint, width: number): bigint {
  const len = BigInt(o.bytes.length);
  const max = (1n << BigInt(width * 8)) - 1n;
  const choices = [0n, 1n, 2n, 7n, 8n, 12n, 24n, 64n, max, max >> 1n, (max >> 1n) + 1n, max - 7n, orig + 1n, orig - 1n,
    orig + 8n, orig - 8n, orig * 2n, orig + 0x10000n, len, len - 1n, len + 1n, BigInt(r.next()), BigInt(r.int(o.bytes.length))];
  if (width === 8) choices.push(1n << 53n, (1n << 53n) - 1n, 1n << 32n);
  return BigInt.asUintN(width * 8, r.pick(choices));
}

function fieldEdit(r: Rng, o: CorpusObject, at: number, width: number): Edit {
  return { at, bytes: bytesOf(interesting(r, o, readField(o, at, width), width), width, o.le) };
}

function randomBytes(r: Rng, o: CorpusObject, start: number, len: number): Edit[] {
  const n = 1 + r.int(6);
  const out: Edit[] = [];
  for (let i = 0; i < n; i++) {
    const at = start + r.int(Math.max(len, 1));
    const orig = o.bytes[at] ?? 0;
    out.push({ at, bytes: [r.int(2) ? orig ^ (1 << r.int(8)) : r.int(256)] });
  }
  return out;
}

// A section's aligned fields: every u32 (or u64) inside it is a candidate.
function sectionFields(r: Rng, o: CorpusObject, s: ElfSection | undefined, width: 4 | 8): Edit[] {
  if (!s || s.size < width) return randomBytes(r, o, 0, o.bytes.length);
  const n = 1 + r.int(3);
  const out: Edit[] = [];
  for (let i = 0; i < n; i++) out.push(fieldEdit(r, o, s.offset + width * r.int(Math.floor(s.size / width)), width));
  return out;
}

const EHDR_FIELDS: Array<[number, number]> = [[4, 1], [5, 1], [6, 1], [16, 2], [18, 2], [20, 4], [40, 8], [48, 4], [52, 2], [58, 2], [60, 2], [62, 2]];
// Section header fields: name, type, flags, addr, offset, size, link, info, addralign, entsize.
const SHDR_FIELDS: Array<[number, number]> = [[0, 4], [4, 4], [8, 8], [16, 8], [24, 8], [32, 8], [40, 4], [44, 4], [48, 8], [56, 8]];
// Symbol fields: name, info, other, shndx, value, size.
const SYM_FIELDS: Array<[number, number]> = [[0, 4], [4, 1], [5, 1], [6, 2], [8, 8], [16, 8]];
// REL fields: offset, info (symbol index high half, type low half), RELA addend.
const REL_FIELDS: Array<[number, number]> = [[0, 8], [8, 4], [12, 4], [16, 8]];
// BTF header: magic, version, flags, hdr_len, type_off, type_len, str_off, str_len (.BTF.ext: more sub-sections).
const BTF_HDR_FIELDS: Array<[number, number]> = [[0, 2], [2, 1], [3, 1], [4, 4], [8, 4], [12, 4], [16, 4], [20, 4], [24, 4], [28, 4]];

function pickSection(o: CorpusObject, r: Rng, pred: (s: ElfSection) => boolean): ElfSection | undefined {
  const xs = o.sections.filter(pred);
  return xs.length ? r.pick(xs) : undefined;
}

function recordField(r: Rng, o: CorpusObject, s: ElfSection | undefined, recSize: number, fields: Array<[number, number]>): Edit[] {
  if (!s || s.size < recSize) return randomBytes(r, o, 0, o.bytes.length);
  const base = s.offset + recSize * r.int(Math.floor(s.size / recSize));
  const [off, w] = r.pick(fields.filter(([f, fw]) => f + fw <= recSize));
  return [fieldEdit(r, o, base + off, w)];
}

function btfEdits(r: Rng, o: CorpusObject, name: '.BTF' | '.BTF.ext'): Edit[] {
  const s = o.sections.find((x) => x.name === name);
  if (!s) return randomBytes(r, o, 0, o.bytes.length);
  switch (r.int(3)) {
    case 0: {
      const [off, w] = r.pick(BTF_HDR_FIELDS);
      return [fieldEdit(r, o, s.offset + off, w)];
    }
    case 1: return sectionFields(r, o, s, 4);
    default: return randomBytes(r, o, s.offset, s.size);
  }
}

const STRATEGIES = ['bytes', 'ehdr', 'shdr', 'shdr-alias', 'truncate', 'btf', 'btf-ref', 'btf.ext', 'symtab', 'reloc', 'code'] as const;
/** Strategy names the kinds of mutation. */
export type Strategy = (typeof STRATEGIES)[number];

// aliasEdits points one section's data at another's (or copies a whole header over another):
// parsers then read, say, BTF bytes as BTF.ext, symbols as relocations, code as strings.
function aliasEdits(r: Rng, o: CorpusObject): Edit[] {
  const n = o.sections.length;
  const [a, b] = [1 + r.int(n - 1), 1 + r.int(n - 1)];
  const at = (i: number) => o.shoff + 64 * i;
  if (r.int(2)) return [{ at: at(a) + 4, bytes: [...o.bytes.subarray(at(b) + 4, at(b) + 64)] }];
  return [{ at: at(a) + 24, bytes: [...o.bytes.subarray(at(b) + 24, at(b) + 40)] }];
}

// btfRefEdits sets a word of the BTF type section to a small type id: references now point at
// other types, often making cycles (typedef -> struct member -> typedef) or kind confusion.
function btfRefEdits(r: Rng, o: CorpusObject): Edit[] {
  const s = o.sections.find((x) => x.name === '.BTF');
  if (!s || s.size < 24) return randomBytes(r, o, 0, o.bytes.length);
  const word = (off: number) => Number(readField(o, s.offset + off, 4));
  const start = s.offset + word(4) + word(8);
  const len = Math.min(word(12), s.offset + s.size - start);
  if (len < 4) return randomBytes(r, o, s.offset, s.size);
  const at = start + 4 * r.int(Math.floor(len / 4));
  return [{ at, bytes: bytesOf(BigInt(r.int(64)), 4, o.le) }];
}

function edits(r: Rng, o: CorpusObject, how: Strategy): Edit[] {
  switch (how) {
    case 'bytes': return randomBytes(r, o, 0, o.bytes.length);
    case 'ehdr': {
      const [off, w] = r.pick(EHDR_FIELDS);
      return [fieldEdit(r, o, off, w)];
    }
    case 'shdr': return recordField(r, o, { ...o.sections[0], offset: o.shoff, size: o.sections.length * 64 }, 64, SHDR_FIELDS);
    case 'shdr-alias': return aliasEdits(r, o);
    case 'btf-ref': return btfRefEdits(r, o);
    case 'truncate': {
      const cuts = [r.int(o.bytes.length), ...o.sections.flatMap((s) => [s.offset, s.offset + s.size, s.offset + (s.size >> 1)])];
      return [{ truncate: Math.min(r.pick(cuts), o.bytes.length - 1) }];
    }
    case 'btf': return btfEdits(r, o, '.BTF');
    case 'btf.ext': return btfEdits(r, o, '.BTF.ext');
    case 'symtab': return recordField(r, o, pickSection(o, r, (s) => s.type === SHT_SYMTAB), 24, SYM_FIELDS);
    case 'reloc': {
      const s = pickSection(o, r, (x) => x.type === SHT_REL || x.type === SHT_RELA);
      return recordField(r, o, s, s?.type === SHT_RELA ? 24 : 16, REL_FIELDS);
    }
    case 'code': {
      const s = pickSection(o, r, (x) => (x.flags & SHF_EXECINSTR) !== 0 && x.size >= 8);
      if (!s) return randomBytes(r, o, 0, o.bytes.length);
      const at = s.offset + 8 * r.int(s.size / 8);
      // opcode, registers, offset or immediate of one instruction
      const [off, w] = r.pick([[0, 1], [1, 1], [2, 2], [4, 4]] as Array<[number, number]>);
      return [w === 1 ? { at: at + off, bytes: [r.int(256)] } : fieldEdit(r, o, at + off, w)];
    }
  }
}

/** Mutation is what one seed does to one corpus object. */
export interface Mutation { object: string; strategies: Strategy[]; edits: Edit[] }

/** mutationFor draws the mutation of `seed`: one to three strategies on one object. */
export function mutationFor(seed: number, corpus: CorpusObject[]): Mutation {
  const r = new Rng(seed);
  const o = corpus[r.int(corpus.length)];
  const n = 1 + (r.int(4) === 0 ? 1 + r.int(2) : 0);
  const strategies: Strategy[] = [];
  const out: Edit[] = [];
  for (let i = 0; i < n; i++) {
    const how = r.pick(STRATEGIES);
    strategies.push(how);
    out.push(...edits(r, o, how));
  }
  return { object: o.name, strategies, edits: out };
}

/** applyEdits returns a mutated copy of `bytes`. Writes beyond the end are dropped. */
export function applyEdits(bytes: Uint8Array, list: Edit[]): Uint8Array {
  let out = bytes.slice();
  for (const e of list) {
    if ('truncate' in e) out = out.slice(0, e.truncate);
    else e.bytes.forEach((b, i) => { if (e.at + i < out.length) out[e.at + i] = b; });
  }
  return out;
}

/** describeEdits prints edits compactly for reports. */
export function describeEdits(list: Edit[]): string {
  return list.map((e) => ('truncate' in e ? `truncate to ${e.truncate}` : `@${e.at}: ${e.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')}`)).join('; ');
}
