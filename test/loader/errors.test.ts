// Bad input to the loader gives precise errors naming the program, section, map or symbol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError, type BpfError } from '../../src/core/errors.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { loadObject, mapTypeSupported, openObject } from '../../src/core/runtime/index.js';
import { readObject } from './util.js';

function fails(fn: () => unknown, code: string, re: RegExp, ctx: Partial<BpfError['context']> = {}): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBpfError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    for (const [k, v] of Object.entries(ctx)) assert.equal((e.context as Record<string, unknown>)[k], v, `context.${k}`);
    return true;
  });
}

const spec = (name: string) => openObject(readObject(`test/fixtures/c/${name}.o`)).spec;

test('missing program', () => {
  fails(() => loadObject(new Runtime(), spec('multi_sec'), { programs: ['nope'] }), 'ENOENT', /no program in section or named "nope"; programs: xdp\.frags \(p_xdp_frags\)/, { section: 'nope' });
});

test('unsupported map type names the map and the type', () => {
  const s = spec('xdp_maps');
  const flows = s.maps.find((m) => m.name === 'flows')!;
  assert.equal(mapTypeSupported(26), false);
  Object.assign(flows, { name: 'fdb', type: 'struct_ops', typeId: 26 });
  for (const r of s.programs[0].relocations) if (r.map === 'flows') r.map = 'fdb';
  fails(() => loadObject(new Runtime(), s), 'ENOTSUPP', /^load maps: map "fdb": unsupported type struct_ops/, { symbol: 'fdb', section: '.maps' });
  // attributes the map layer refuses are reported with the attributes
  const t = spec('xdp_maps');
  t.maps.find((m) => m.name === 'counters')!.keySize = 8;
  fails(() => loadObject(new Runtime(), t), 'EINVAL', /load maps: map "counters": .*key 8, value 8, max_entries 4/, { symbol: 'counters' });
});

test('bad map relocations', () => {
  const a = spec('xdp_maps');
  a.programs[0].relocations[0].map = 'ghost';
  fails(() => loadObject(new Runtime(), a), 'E_RELOC', /program "xdp_count": relocation against unknown map "ghost"/, { symbol: 'ghost', section: 'xdp', insn: a.programs[0].relocations[0].insn });
  const b = spec('xdp_maps');
  b.programs[0].relocations[0].insn = 0;
  fails(() => loadObject(new Runtime(), b), 'E_RELOC', /is not on an lddw instruction/, { insn: 0 });
  const c = spec('global_data');
  const r = c.programs[0].relocations.find((x) => x.kind === 'map_value')!;
  r.offset = 4096;
  fails(() => loadObject(new Runtime(), c), 'E_RELOC', /offset 4096 is outside map/, { insn: r.insn, symbol: r.map });
});

test('bad CO-RE relocations', () => {
  const a = spec('core_relo');
  a.programs[0].coreRelos[0].accessStr = '0:x';
  fails(() => loadObject(new Runtime(), a), 'E_RELOC', /CO-RE relocation: bad access string "0:x"/, { insn: a.programs[0].coreRelos[0].insn, symbol: 'core_read' });
  const b = spec('core_relo');
  b.programs[0].coreRelos[0].accessStr = '0:9';
  fails(() => loadObject(new Runtime(), b), 'E_RELOC', /member 9 of struct task_like does not exist/);
  const c = openObject(readObject('test/loader/fixtures/core_ctx.o')).spec;
  const rel = c.programs[0].coreRelos[0];
  c.programs[0].insns[rel.insn].off += 2; // not what clang wrote for that field
  fails(() => loadObject(new Runtime(), c), 'E_RELOC', /instruction has offset \d+, expected \d+/, { insn: rel.insn, section: 'xdp' });
});

test('big-endian objects are refused clearly', () => {
  fails(() => loadObject(new Runtime(), openObject(readObject('test/fixtures/c/xdp_maps.bpfeb.o')).spec), 'EINVAL', /big-endian/);
});
