/**
 * parseBtfExt: the .BTF.ext section, per ELF section: func_info (which BTF FUNC starts at
 * which instruction), line_info (source file, line and column of an instruction) and CO-RE
 * relocation records. Offsets in the file are in bytes; we report instruction indices
 * (byte offset / 8), as libbpf does after loading. Names come from the .BTF string section.
 */
import { BpfError } from '../errors.js';
import { ByteView } from '../elf/bytes.js';
import { Btf } from './types.js';
import { defineLazy } from './lazy.js';

/** FuncInfo says that the function with BTF type `typeId` starts at instruction `insn`. */
export interface FuncInfo { insn: number; typeId: number }
/** LineInfo maps instruction `insn` to a source position (1-based line, column 0 when unknown). */
export interface LineInfo { insn: number; file: string; line: string; lineNo: number; column: number }
/** CoreReloKind names enum bpf_core_relo_kind values. */
export const CORE_RELO_KINDS = [
  'field_byte_offset', 'field_byte_size', 'field_exists', 'field_signed', 'field_lshift_u64', 'field_rshift_u64',
  'type_id_local', 'type_id_target', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
] as const;
/** CoreRelo is one CO-RE relocation: `accessStr` like "0:1:0" walks from type `typeId`. */
export interface CoreRelo { insn: number; typeId: number; accessStr: string; kind: (typeof CORE_RELO_KINDS)[number] | number }

/** BtfExtSection holds the records of one ELF section. */
export interface BtfExtSection { funcInfo: FuncInfo[]; lineInfo: LineInfo[]; coreRelos: CoreRelo[] }

/** BtfExt is parsed .BTF.ext, keyed by ELF section name. */
export interface BtfExt { sections: Map<string, BtfExtSection> }

function fail(message: string): never {
  throw new BpfError('E_BTF', message, { section: '.BTF.ext' });
}

/**
 * parseBtfExt reads a .BTF.ext blob; `btf` supplies the strings it refers to. Every record is
 * checked here (bounds, instruction offsets, string offsets), but line_info records are turned
 * into objects only when a section's `lineInfo` is first read: loading never needs them.
 */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  if (bytes.length < 8) fail(`btf.ext too short (${bytes.length} bytes)`);
  const le = bytes[0] === 0x9f && bytes[1] === 0xeb;
  if (!le && !(bytes[0] === 0xeb && bytes[1] === 0x9f)) fail('bad btf.ext magic');
  const v = new ByteView(bytes, le, 'E_BTF', 'btf.ext');
  if (v.u8(2) !== 1) fail(`unsupported btf.ext version ${v.u8(2)}`);
  const hdrLen = v.u32(4, 'hdr_len');
  if (hdrLen < 24) fail(`btf.ext header length ${hdrLen} is too short`);
  v.check(0, hdrLen, 'btf.ext header');
  const strs = cachedStrings(new ByteView(btf.strings, le, 'E_BTF', 'btf strings'));
  const out: BtfExt = { sections: new Map() };
  const lines = new Map<string, RecordRun[]>();
  const sec = (name: string): BtfExtSection => {
    let s = out.sections.get(name);
    if (!s) {
      out.sections.set(name, (s = { funcInfo: [], lineInfo: [], coreRelos: [] }));
      const runs: RecordRun[] = [];
      lines.set(name, runs);
      defineLazy(s, 'lineInfo', () => runs.flatMap((r) => lineRecords(r, strs)));
    }
    return s;
  };
  const sub = (offAt: number, what: string, minRec: number, each: (run: RecordRun, s: BtfExtSection) => void) => {
    const off = hdrLen + v.u32(offAt, `${what} offset`);
    const len = v.u32(offAt + 4, `${what} length`);
    if (len === 0) return;
    readSubsection(new ByteView(v.slice(off, len, what), le, 'E_BTF', `btf.ext ${what}`), strs, what, minRec, (run) => each(run, sec(run.sec)));
  };
  sub(8, 'func_info', 8, (r, s) => forRecords(r, (at) => s.funcInfo.push({ insn: insnIndex(r.v.u32(at, 'insn_off')), typeId: r.v.u32(at + 4, 'type_id') })));
  sub(16, 'line_info', 16, (r) => {
    checkLines(r, btf.strings.length);
    lines.get(r.sec)!.push(r);
  });
  if (hdrLen >= 32) {
    sub(24, 'core_relo', 16, (r, s) => forRecords(r, (at) => {
      const k = r.v.u32(at + 12, 'kind');
      s.coreRelos.push({ insn: insnIndex(r.v.u32(at, 'insn_off')), typeId: r.v.u32(at + 4, 'type_id'), accessStr: name(strs, r.v.u32(at + 8, 'access_str_off')), kind: CORE_RELO_KINDS[k] ?? k });
    }));
  }
  return out;
}

/** RecordRun is the records of one section in one subsection: `n` records of `size` bytes from `at`. */
interface RecordRun { v: ByteView; sec: string; at: number; n: number; size: number }

function forRecords(r: RecordRun, each: (at: number) => void): void {
  for (let i = 0, at = r.at; i < r.n; i++, at += r.size) each(at);
}

// checkLines validates line_info records without decoding them: instruction offsets and string
// offsets (the string section ends in NUL, so an offset inside it names a terminated string).
function checkLines(r: RecordRun, strLen: number): void {
  const str = (at: number, what: string) => {
    const off = r.v.u32(at, what);
    if (off !== 0 && off >= strLen) fail(`line_info of ${r.sec}: ${what} ${off} is outside the string section (${strLen} bytes)`);
  };
  forRecords(r, (at) => {
    insnIndex(r.v.u32(at, 'insn_off'));
    str(at + 4, 'file_name_off');
    str(at + 8, 'line_off');
  });
}

function lineRecords(r: RecordRun, strs: Strings): LineInfo[] {
  const out: LineInfo[] = [];
  forRecords(r, (at) => {
    const col = r.v.u32(at + 12, 'line_col');
    out.push({ insn: r.v.u32(at, 'insn_off') / 8, file: name(strs, r.v.u32(at + 4, 'file_name_off')), line: name(strs, r.v.u32(at + 8, 'line_off')), lineNo: col >>> 10, column: col & 0x3ff });
  });
  return out;
}

function insnIndex(byteOff: number): number {
  if (byteOff % 8 !== 0) fail(`instruction offset ${byteOff} is not a multiple of 8`);
  return byteOff / 8;
}

/** Strings reads NUL-terminated strings of the .BTF string section by offset. */
interface Strings { cstring(off: number, field: string): string }

// the same file and source-line strings repeat: each offset is decoded once
function cachedStrings(v: ByteView): Strings {
  const seen = new Map<number, string>();
  return {
    cstring(off, field) {
      let s = seen.get(off);
      if (s === undefined) seen.set(off, (s = v.cstring(off, field)));
      return s;
    },
  };
}

function name(strs: Strings, off: number): string {
  return off === 0 ? '' : strs.cstring(off, `string offset ${off}`);
}

// readSubsection walks: u32 rec_size, then per section {sec_name_off, num_info, records}.
function readSubsection(v: ByteView, strs: Strings, what: string, minRec: number, each: (run: RecordRun) => void): void {
  const recSize = v.u32(0, `${what} record size`);
  if (recSize < minRec || recSize % 4 !== 0) fail(`${what} record size ${recSize} is invalid`);
  let at = 4;
  while (at < v.length) {
    const sec = name(strs, v.u32(at, `${what} section name`));
    const n = v.u32(at + 4, `${what} record count`);
    if (n === 0) fail(`${what} for section ${sec} has no records`);
    at += 8;
    v.check(at, n * recSize, `${what} records of ${sec}`);
    each({ v, sec, at, n, size: recSize });
    at += n * recSize;
  }
}
