// Every fixture object's programs load and run in both engines with identical results
// (return value, output data, map contents), and known programs give their known results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError } from '../../src/core/errors.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { loadObject, mapTypeSupported, openObject, type Collection } from '../../src/core/runtime/index.js';
import type { Btf, BtfType } from '../../src/core/btf/index.js';
import { ENGINES, fixtureObjects, ipv4Frame, readObject, tsbpfMapEntries } from './util.js';

function runAll(path: string, prog: string, engineName: string) {
  const engine = ENGINES.find(([n]) => n === engineName)![1];
  const o = openObject(readObject(path));
  const rt = new Runtime({ seed: 1 });
  const coll = loadObject(rt, o.spec, { programs: [prog], engine, btfBytes: o.btfBytes });
  const runs = [ipv4Frame(64), ipv4Frame(14, 2), ipv4Frame(200, 3)].map((data) => {
    try {
      const r = coll.programs[prog].run({ data });
      return { retval: r.retval.toString(), out: Buffer.from(r.dataOut).toString('hex') };
    } catch (e) {
      return { error: isBpfError(e) ? e.code : String(e) };
    }
  });
  const maps = Object.fromEntries([...coll.fds].map(([n, fd]) => [n, tsbpfMapEntries(rt, fd)]));
  return { runs, maps, coll };
}

/** unsupportedMap names a map of `prog` whose type the map layer lacks, if any. */
function unsupportedMap(path: string, prog: string): string | undefined {
  const { spec } = openObject(readObject(path));
  const p = spec.programs.find((x) => x.name === prog)!;
  const used = new Set(p.relocations.map((r) => r.map));
  return spec.maps.find((m) => used.has(m.name) && (!mapTypeSupported(m.typeId) || (m.innerMap && !mapTypeSupported(m.innerMap.typeId))))?.name;
}

for (const path of fixtureObjects()) {
  test(`${path}: every program loads and runs identically in interp and jit`, () => {
    const { spec } = openObject(readObject(path));
    assert.ok(spec.programs.length > 0);
    for (const p of spec.programs) {
      const missing = unsupportedMap(path, p.name);
      if (missing) {
        assert.throws(() => runAll(path, p.name, 'jit'), (e: unknown) => isBpfError(e) && e.code === 'ENOTSUPP'
          && e.message.includes(`load maps: map "${missing}": unsupported type`));
        continue;
      }
      const a = runAll(path, p.name, 'interp'), b = runAll(path, p.name, 'jit');
      assert.deepEqual(b.runs, a.runs, `${p.name}: runs differ`);
      assert.deepEqual(b.maps, a.maps, `${p.name}: maps differ`);
    }
  });
}

function only(path: string, prog: string): { r: (data: Uint8Array) => bigint; coll: Collection } {
  const o = openObject(readObject(path));
  const coll = loadObject(new Runtime(), o.spec, { programs: [prog] });
  return { r: (data) => coll.programs[prog].run({ data }).retval, coll };
}

test('known results: maps, global data, subprograms, section types', () => {
  const xdp = only('test/fixtures/c/xdp_maps.o', 'xdp_count');
  assert.equal(xdp.r(ipv4Frame(64)), 2n);
  assert.equal(xdp.r(ipv4Frame(10)), 2n);
  assert.equal(xdp.r(ipv4Frame(10)), 2n);
  const counters = xdp.coll.maps.counters;
  assert.deepEqual([...counters.keys()].length, 4);
  assert.equal(Buffer.from(counters.get(new Uint8Array([0, 0, 0, 0])) as Uint8Array).readBigUInt64LE(), 1n);
  assert.equal(Buffer.from(counters.get(new Uint8Array([1, 0, 0, 0])) as Uint8Array).readBigUInt64LE(), 2n);

  const g = only('test/fixtures/c/global_data.o', 'tc_global');
  assert.equal(g.r(ipv4Frame(64)), 8n);
  assert.equal(g.r(ipv4Frame(40)), 9n);
  assert.equal(g.coll.getGlobal('total'), 104n);
  assert.equal(g.coll.getGlobal('counter'), 9n);

  const sock = only('test/fixtures/c/legacy_maps.o', 'sock_count');
  assert.equal(sock.r(ipv4Frame(64)), 0n);
  const pk = sock.coll.maps.packets.get(new Uint8Array([8, 0, 0, 0])) as Uint8Array;
  assert.equal(Buffer.from(pk).readBigUInt64LE(), 1n, 'protocol 0x0008 & 15 = 8');
  const seen = [...sock.coll.maps.seen.keys()].map((k) => Buffer.from(k as Uint8Array).readBigUInt64LE());
  assert.deepEqual(seen, [50n], 'socket filters see skb->len without the Ethernet header');

  assert.equal(only('test/fixtures/c/subprogs.o', 'tc_calls').r(ipv4Frame(40)), 43n);
  assert.equal(only('test/fixtures/c/subprogs.o', 'xdp_calls').r(ipv4Frame(40)), 2n);
  assert.equal(only('test/fixtures/c/multi_sec.o', 'p_custom').r(new Uint8Array(0)), 3n);
  assert.equal(only('test/fixtures/c/multi_sec.o', 'p_sock2').r(ipv4Frame(40)), 2n);
});

test('CO-RE against tsbpf context types: reordered local xdp_md / __sk_buff flavours read the real fields', () => {
  const f = ipv4Frame(77);
  f[0] = 9;
  assert.equal(only('test/loader/fixtures/core_ctx.o', 'xdp_core').r(f), 9n * 1000n + 77n + 1n);
  // len 77, missing field: +0, sizeof(protocol) = 4 -> 4000, IPv4 -> 7
  assert.equal(only('test/loader/fixtures/core_ctx.o', 'tc_core').r(f), 77n + 4000n + 7n);
});

function targetBtf(): Btf {
  // struct task_like { long state; int pid; struct { int a; int b; } nested; } with a layout unlike the object's
  const types: BtfType[] = [
    { id: 0, name: '', kind: 'void' },
    { id: 1, name: 'int', kind: 'int', size: 4, bits: 32, offset: 0, signed: true, char: false, bool: false },
    { id: 2, name: 'long', kind: 'int', size: 8, bits: 64, offset: 0, signed: true, char: false, bool: false },
    { id: 3, name: '', kind: 'struct', size: 8, members: [{ name: 'a', type: 1, bitOffset: 0, bitfieldSize: 0 }, { name: 'b', type: 1, bitOffset: 32, bitfieldSize: 0 }] },
    { id: 4, name: 'task_like', kind: 'struct', size: 24, members: [
      { name: 'state', type: 2, bitOffset: 0, bitfieldSize: 0 }, { name: 'pid', type: 1, bitOffset: 64, bitfieldSize: 0 },
      { name: 'nested', type: 3, bitOffset: 128, bitfieldSize: 0 }] },
  ];
  return { littleEndian: true, types, strings: new Uint8Array(1) };
}

test('CO-RE with a custom target BTF; without one the guarded code faults with E_RELOC', () => {
  const o = openObject(readObject('test/fixtures/c/core_relo.o'));
  const ctx = new Uint8Array(24);
  const dv = new DataView(ctx.buffer);
  dv.setInt32(0, 1000, true); // the object's own pid offset: must not be read
  dv.setInt32(8, 5, true); // target pid
  dv.setInt32(20, 11, true); // target nested.b
  for (const [, engine] of ENGINES) {
    const coll = loadObject(new Runtime(), o.spec, { coreBtf: targetBtf(), engine });
    assert.equal(coll.programs.core_read.run({ data: ctx }).retval, 5n + 11n + 1n);
    const bare = loadObject(new Runtime(), o.spec, { engine });
    assert.throws(() => bare.programs.core_read.run({ data: ctx }), (e: unknown) => isBpfError(e) && e.code === 'E_RELOC');
  }
});

test('tail calls through a prog array filled from __array initial values', () => {
  for (const [, engine] of ENGINES) {
    const o = openObject(readObject('test/loader/fixtures/tail_calls.o'));
    const coll = loadObject(new Runtime(), o.spec, { programs: ['dispatch'], engine });
    assert.deepEqual(Object.keys(coll.programs).sort(), ['dispatch', 'step_one', 'step_two'], 'programs named by the prog array load too');
    const run = (b: number) => coll.programs.dispatch.run({ data: new Uint8Array([b, 0, 0]) }).retval;
    assert.equal(run(0), 1n); // step_one: XDP_DROP
    assert.equal(run(1), 1n); // step_two chains into step_one
    assert.equal(run(2), 2n); // empty slot: the call fails, dispatch returns XDP_PASS
    assert.equal(run(7), 1n); // slot 3
    const bss = coll.maps['.bss'].get(new Uint8Array(4)) as Uint8Array;
    assert.deepEqual([...new Uint32Array(bss.slice().buffer)], [4, 3, 1, 1]);
  }
});

test('CO-RE bitfields: offset, size, shifts and signedness relocated to another layout', () => {
  const o = openObject(readObject('test/loader/fixtures/core_bits.o'));
  const int = (id: number, name: string, size: number, signed: boolean): BtfType => ({ id, name, kind: 'int', size, bits: size * 8, offset: 0, signed, char: false, bool: false });
  const bf = (name: string, type: number, bitOffset: number, bitfieldSize: number) => ({ name, type, bitOffset, bitfieldSize });
  // the target moves every bitfield: delta first, then level, then kind, in a 16-bit unit at byte 2
  const target: Btf = { littleEndian: true, strings: new Uint8Array(1), types: [
    { id: 0, name: '', kind: 'void' }, int(1, 'unsigned int', 4, false), int(2, 'int', 4, true), int(3, 'short', 2, true),
    { id: 4, name: 'flags_like', kind: 'struct', size: 8, members: [bf('delta', 2, 16, 6), bf('level', 1, 22, 5), bf('kind', 1, 27, 3), bf('small', 3, 32, 0)] },
  ] };
  const word = ((-5 & 63) << 16) | (17 << 22) | (3 << 27);
  const data = new Uint8Array(8);
  new DataView(data.buffer).setUint32(0, word >>> 0, true);
  const own = new Uint8Array(8);
  new DataView(own.buffer).setUint32(0, 3 | (17 << 3) | ((-5 & 63) << 8), true);
  for (const [, engine] of ENGINES) {
    const expect = 3n * 10000n + 17n * 100n - 5n + 50n + 1000000n;
    assert.equal(loadObject(new Runtime(), o.spec, { coreBtf: target, engine }).programs.read_bits.run({ data }).retval, expect);
    assert.equal(loadObject(new Runtime(), o.spec, { coreBtf: o.spec.btf!, engine }).programs.read_bits.run({ data: own }).retval, expect);
  }
});
