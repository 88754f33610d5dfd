// BTF.ext line info is checked when the object is parsed but decoded only when first read
// (loading never reads it): the lazily decoded records equal an independent decoding of the
// raw section, read as plain data (spread, JSON, structuredClone), and a bad record still
// fails at parse time with E_BTF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBtf, parseBtfExt } from '../../src/core/btf/index.js';
import { parseElf, findSection, parseObject } from '../../src/core/elf/index.js';
import { isBpfError } from '../../src/core/errors.js';
import { fixture } from '../elf/fixtures.js';

const raw = (name: string) => {
  const elf = parseElf(fixture(name));
  return { btfBytes: findSection(elf, '.BTF')!.data, ext: findSection(elf, '.BTF.ext')!.data.slice() };
};

// firstLineRecord is the byte offset in .BTF.ext of the first line_info record.
function firstLineRecord(ext: Uint8Array): number {
  const dv = new DataView(ext.buffer, ext.byteOffset);
  const hdrLen = dv.getUint32(4, true);
  return hdrLen + dv.getUint32(16, true) + 4 + 8; // rec_size, then {sec_name_off, num_info}
}

// decodeLines reads every line_info record of the raw section, independently of the parser.
function decodeLines(ext: Uint8Array, strings: Uint8Array): Map<string, Array<[number, string, number, number]>> {
  const dv = new DataView(ext.buffer, ext.byteOffset);
  const str = (off: number) => new TextDecoder().decode(strings.subarray(off, strings.indexOf(0, off)));
  const hdrLen = dv.getUint32(4, true);
  const start = hdrLen + dv.getUint32(16, true), end = start + dv.getUint32(20, true);
  const size = dv.getUint32(start, true);
  const out = new Map<string, Array<[number, string, number, number]>>();
  for (let at = start + 4; at < end;) {
    const sec = str(dv.getUint32(at, true)), n = dv.getUint32(at + 4, true);
    at += 8;
    const recs = [];
    for (let i = 0; i < n; i++, at += size) {
      const col = dv.getUint32(at + 12, true);
      recs.push([dv.getUint32(at, true) / 8, str(dv.getUint32(at + 8, true)), col >>> 10, col & 0x3ff] as [number, string, number, number]);
    }
    out.set(sec, recs);
  }
  return out;
}

test('line info of a section is decoded on first read and equals the raw records', () => {
  const { btfBytes, ext } = raw('subprogs.o');
  const btf = parseBtf(btfBytes);
  const parsed = parseBtfExt(ext, btf);
  const want = decodeLines(ext, btf.strings);
  assert.deepEqual([...want.keys()].sort(), [...parsed.sections.keys()].sort());
  for (const [name, s] of parsed.sections) {
    assert.equal(typeof Object.getOwnPropertyDescriptor(s, 'lineInfo')!.get, 'function', `${name}: not decoded yet`);
    const got = s.lineInfo;
    assert.equal(s.lineInfo, got, 'decoded once');
    assert.deepEqual(got.map((l) => [l.insn, l.line, l.lineNo, l.column]), want.get(name));
  }
});

test("a program's line info reads as plain data and can be replaced", () => {
  const p = parseObject(fixture('subprogs.o')).programs.find((x) => x.subprograms.length > 0)!;
  const json = JSON.parse(JSON.stringify(p));
  assert.ok(json.lineInfo.length > 0);
  assert.deepEqual(json.lineInfo, p.lineInfo);
  assert.deepEqual(structuredClone(p).lineInfo, p.lineInfo);
  assert.deepEqual({ ...p }.lineInfo, p.lineInfo);
  // records past the program's first function come from its subprograms, re-indexed
  assert.ok(p.lineInfo.some((l) => l.insn >= p.subprograms[0].insn));
  const q = parseObject(fixture('subprogs.o')).programs[0];
  q.lineInfo = [];
  assert.deepEqual(q.lineInfo, []);
});

test('a bad line_info record fails when the object is parsed', () => {
  const { btfBytes, ext } = raw('subprogs.o');
  const btf = parseBtf(btfBytes);
  const at = firstLineRecord(ext);
  const bad = (patch: (dv: DataView) => void, re: RegExp) => {
    const b = ext.slice();
    patch(new DataView(b.buffer));
    assert.throws(() => parseBtfExt(b, btf), (e) => isBpfError(e) && e.code === 'E_BTF' && e.context.section === '.BTF.ext' && re.test(e.detail));
  };
  bad((dv) => dv.setUint32(at + 8, btf.strings.length + 5, true), /line_off \d+ is outside the string section/);
  bad((dv) => dv.setUint32(at + 4, 0x7fffffff, true), /file_name_off \d+ is outside/);
  bad((dv) => dv.setUint32(at, 12, true), /instruction offset 12 is not a multiple of 8/);
});
