// BTF and BTF.ext parsing on the clang fixtures: the raw dump equals bpftool's, C type names,
// bpftool-style value printing, line info matching the C sources, and fuzzed BTF failing cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  parseBtf, parseBtfExt, dumpBtfRaw, typeName, findType, typeSize, btfValue, btfValueToJs, formatBtfJson, formatMapDump,
} from '../../src/core/btf/index.js';
import { parseElf, findSection, parseObject } from '../../src/core/elf/index.js';
import { isBpfError } from '../../src/core/errors.js';
import { fixture, fixtureNames, tool, hasTool, FIXTURE_DIR } from '../elf/fixtures.js';

const btfOf = (name: string) => parseBtf(findSection(parseElf(fixture(name)), '.BTF')!.data);

for (const name of fixtureNames()) {
  test(`${name}: raw BTF dump equals bpftool btf dump file`, (t) => {
    if (!hasTool('bpftool')) return t.skip('bpftool not installed');
    const out = tool('bpftool', ['btf', 'dump', 'file'], name);
    if (out === null) return t.skip('bpftool could not read the file');
    assert.equal(dumpBtfRaw(btfOf(name)), out.trimEnd());
  });
}

test('type names and sizes in C syntax', () => {
  const btf = btfOf('xdp_maps.o');
  const key = findType(btf, 'struct', 'flow_key')!;
  assert.equal(typeName(btf, key.id), 'struct flow_key');
  assert.equal(typeSize(btf, key.id), 16);
  const pad = key.members.find((m) => m.name === 'pad')!;
  assert.equal(typeName(btf, pad.type), '__u8[3]');
  const xdp = findType(btf, 'func', 'xdp_count')!;
  assert.equal(typeName(btf, xdp.type), 'int (*)(struct xdp_md *)');
  assert.equal(typeName(btf, findType(btf, 'var', 'LICENSE')!.id), 'char[4] LICENSE');
});

function flowStats(le: boolean): Uint8Array {
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, 3n, le);
  dv.setBigUint64(8, 18446744073709551615n, le);
  b.set(new TextEncoder().encode('eth0'), 16);
  dv.setUint32(24, 1, le);
  return b;
}

test('values print as bpftool map dump prints them', () => {
  const btf = btfOf('xdp_maps.o');
  const st = findType(btf, 'struct', 'flow_stats')!;
  const v = btfValue(btf, st.id, flowStats(true));
  assert.equal(formatBtfJson(v), [
    '{',
    '    "packets": 3,',
    '    "bytes": 18446744073709551615,',
    '    "tag": "eth0",',
    '    "state": "FLOW_SEEN"',
    '}',
  ].join('\n'));
  assert.deepEqual(btfValueToJs(v), { packets: 3, bytes: 18446744073709551615n, tag: 'eth0', state: 'FLOW_SEEN' });
  // big-endian BTF reads big-endian values
  const be = btfOf('xdp_maps.bpfeb.o');
  assert.deepEqual(btfValueToJs(btfValue(be, findType(be, 'struct', 'flow_stats')!.id, flowStats(false))), btfValueToJs(v));
});

test('map dump layout: keys and values, arrays inline, nested objects indented', () => {
  const o = parseObject(fixture('xdp_maps.o'));
  const flows = o.maps.find((m) => m.name === 'flows')!;
  const key = new Uint8Array(16);
  new DataView(key.buffer).setUint32(0, 0x0a000001, true);
  key[12] = 6;
  const value = flowStats(true);
  value[16] = 0xff; // tag no longer a printable C string: shown as numbers
  const text = formatMapDump(o.btf!, flows.btfKeyTypeId, flows.btfValueTypeId, [{ key, value }]);
  assert.equal(text, [
    '[{',
    '        "key": {',
    '            "saddr": 167772161,',
    '            "daddr": 0,',
    '            "sport": 0,',
    '            "dport": 0,',
    '            "proto": 6,',
    '            "pad": [0,0,0',
    '            ]',
    '        },',
    '        "value": {',
    '            "packets": 3,',
    '            "bytes": 18446744073709551615,',
    '            "tag": [-1,116,104,48,0,0,0,0',
    '            ],',
    '            "state": "FLOW_SEEN"',
    '        }',
    '    }',
    ']',
    '',
  ].join('\n'));
});

test('global data shows as its DATASEC, variables by name', () => {
  const o = parseObject(fixture('global_data.o'));
  const data = o.maps.find((m) => m.name === '.rodata')!;
  const v = btfValueToJs(btfValue(o.btf!, data.btfValueTypeId, data.initialValue!));
  assert.deepEqual(v, { '.rodata': [{ limit: 100 }, { 'tc_global.____fmt': 'big packet %u' }] });
});

test('BTF.ext line info points at the right lines of the C sources', () => {
  for (const name of ['xdp_maps', 'subprogs', 'global_data', 'legacy_maps']) {
    const source = readFileSync(join(FIXTURE_DIR, `${name}.c`), 'utf8').split('\n');
    const o = parseObject(fixture(`${name}.o`));
    let checked = 0;
    for (const p of o.programs) {
      for (const li of p.lineInfo) {
        if (li.lineNo === 0) continue;
        assert.equal(li.line, source[li.lineNo - 1], `${name} line ${li.lineNo}`);
        assert.ok(li.insn >= 0 && li.insn < p.insns.length);
        checked++;
      }
      for (const fi of p.funcInfo) assert.equal(o.btf!.types[fi.typeId].kind, 'func');
    }
    assert.ok(checked > 3, `${name}: line info present`);
  }
});

test('BTF.ext sections are keyed by ELF section and use instruction indices', () => {
  const elf = parseElf(fixture('subprogs.o'));
  const btf = parseBtf(findSection(elf, '.BTF')!.data);
  const ext = parseBtfExt(findSection(elf, '.BTF.ext')!.data, btf);
  assert.deepEqual([...ext.sections.keys()].sort(), ['.text', 'tc', 'xdp']);
  const text = ext.sections.get('.text')!;
  assert.deepEqual(text.funcInfo.map((f) => [f.insn, btf.types[f.typeId].name]), [[0, 'twice'], [4, 'add3']]);
});

test('corrupted BTF only ever fails with E_BTF', () => {
  const blobs = ['xdp_maps.o', 'prog_array.o', 'xdp_maps.bpfeb.o'].map((n) => findSection(parseElf(fixture(n)), '.BTF')!.data.slice());
  fc.assert(fc.property(fc.nat({ max: blobs.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(), (i, flips, cut) => {
    const b = blobs[i].slice(0, blobs[i].length - (cut % 4 === 0 ? cut % 64 : 0));
    for (const [at, v] of flips) b[at % b.length] = v;
    try {
      const btf = parseBtf(b);
      for (const t of btf.types) { typeName(btf, t.id); try { typeSize(btf, t.id); } catch (e) { if (!isBpfError(e)) throw e; } }
    } catch (e) {
      assert.ok(isBpfError(e) && e.code === 'E_BTF', String((e as Error)?.stack ?? e));
    }
  }), { numRuns: 400 });
});
