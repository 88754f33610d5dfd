// The ELF reader against llvm-readelf: section headers, symbols and relocations of every fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseElf, readSymbols, readRelocations, SHT_REL, SHT_RELA, EM_BPF, ET_REL, R_BPF_64_64, R_BPF_64_ABS64,
  R_BPF_64_ABS32, R_BPF_64_NODYLD32, R_BPF_64_32,
} from '../../src/core/elf/index.js';
import { isBpfError } from '../../src/core/errors.js';
import { fixture, fixtureNames, tool, hasTool } from './fixtures.js';

const READELF = 'llvm-readelf';
const RELOC_NAMES: Record<number, string> = {
  [R_BPF_64_64]: 'R_BPF_64_64', [R_BPF_64_ABS64]: 'R_BPF_64_ABS64', [R_BPF_64_ABS32]: 'R_BPF_64_ABS32',
  [R_BPF_64_NODYLD32]: 'R_BPF_64_NODYLD32', [R_BPF_64_32]: 'R_BPF_64_32',
};

interface ReadelfSection { Index: number; Name: { Value: string }; Type: { RawValue: number }; Offset: number; Size: number; Link: number; Info: number; Flags: { RawFlags: number } }

for (const name of fixtureNames()) {
  test(`${name}: header says BPF relocatable object in the right byte order`, () => {
    const elf = parseElf(fixture(name));
    assert.equal(elf.machine, EM_BPF);
    assert.equal(elf.type, ET_REL);
    assert.equal(elf.littleEndian, !name.includes('bpfeb'));
  });

  test(`${name}: sections match llvm-readelf -S`, (t) => {
    if (!hasTool(READELF)) return t.skip('llvm-readelf not installed');
    const out = tool(READELF, ['--elf-output-style=JSON', '-S'], name);
    if (out === null) return t.skip('llvm-readelf failed');
    const want = ((Object.values(JSON.parse(out)[0])[0] as { Sections: unknown }).Sections as { Section: ReadelfSection }[]).map((s) => s.Section);
    const got = parseElf(fixture(name)).sections;
    assert.equal(got.length, want.length);
    for (const [i, w] of want.entries()) {
      const g = got[i];
      assert.deepEqual(
        [g.index, g.name, g.type, g.offset, g.size, g.link, g.info, g.flags],
        [w.Index, w.Name.Value, w.Type.RawValue, w.Offset, w.Size, w.Link, w.Info, w.Flags.RawFlags],
        `section ${i}`,
      );
    }
  });

  test(`${name}: symbols match llvm-readelf -s`, (t) => {
    if (!hasTool(READELF)) return t.skip('llvm-readelf not installed');
    const out = tool(READELF, ['-s'], name);
    if (out === null) return t.skip('llvm-readelf failed');
    const want = [...out.matchAll(/^\s*(\d+): ([0-9a-f]{16})\s+(\d+) (\w+)\s+(\w+)\s+\w+\s+(\w+) ?(.*)$/gm)];
    const got = readSymbols(parseElf(fixture(name)));
    assert.ok(want.length > 5, 'readelf printed symbols');
    assert.equal(got.length, want.length);
    const types = ['NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE'];
    for (const m of want) {
      const g = got[Number(m[1])];
      const ndx = m[6] === 'UND' ? 0 : m[6] === 'ABS' ? 0xfff1 : Number(m[6]);
      assert.deepEqual([g.value, g.size, types[g.type], g.bind === 0 ? 'LOCAL' : 'GLOBAL', g.shndx], [parseInt(m[2], 16), Number(m[3]), m[4], m[5], ndx], `symbol ${m[1]}`);
      if (m[4] !== 'SECTION') assert.equal(g.name, m[7], `symbol ${m[1]} name`);
    }
  });

  test(`${name}: relocations match llvm-readelf -r`, (t) => {
    if (!hasTool(READELF)) return t.skip('llvm-readelf not installed');
    const out = tool(READELF, ['-r'], name);
    if (out === null) return t.skip('llvm-readelf failed');
    const elf = parseElf(fixture(name));
    const symbols = readSymbols(elf);
    for (const block of out.split(/\n(?=Relocation section)/).filter((b) => b.startsWith('Relocation section'))) {
      const secName = /^Relocation section '([^']+)'/.exec(block)![1];
      const sec = elf.sections.find((s) => s.name === secName && (s.type === SHT_REL || s.type === SHT_RELA))!;
      assert.ok(sec, `section ${secName} found`);
      const want = [...block.matchAll(/^([0-9a-f]{16})\s+[0-9a-f]{16} (\S+)\s+[0-9a-f]{16} (.*)$/gm)];
      const got = readRelocations(elf, sec);
      assert.equal(got.length, want.length, secName);
      want.forEach((m, i) => {
        const sym = symbols[got[i].symbol];
        assert.deepEqual([got[i].offset, RELOC_NAMES[got[i].type], sym.name || elf.sections[sym.shndx].name], [parseInt(m[1], 16), m[2], m[3]], `${secName} #${i}`);
      });
    }
  });
}

test('parseElf rejects non-ELF and truncated input with E_ELF', () => {
  const bytes = fixture('subprogs.o');
  for (const bad of [new Uint8Array(0), new Uint8Array(64), bytes.slice(0, 63), bytes.slice(0, 200)]) {
    assert.throws(() => parseElf(bad), (e) => isBpfError(e) && e.code === 'E_ELF');
  }
  const wrongClass = bytes.slice();
  wrongClass[4] = 1;
  assert.throws(() => parseElf(wrongClass), /not a 64-bit ELF/);
});

test('a section whose data runs past the end of the file is reported by index', () => {
  const bytes = fixture('subprogs.o').slice();
  const elf = parseElf(bytes);
  const text = elf.sections.find((s) => s.name === '.text')!;
  // e_shoff + index * 64 + 32 is sh_size: make it huge.
  const dv = new DataView(bytes.buffer);
  const shoff = Number(dv.getBigUint64(40, true));
  dv.setBigUint64(shoff + text.index * 64 + 32, 1n << 40n, true);
  assert.throws(() => parseElf(bytes), (e) => isBpfError(e) && e.code === 'E_ELF' && e.message.includes(`section ${text.index}`));
});
