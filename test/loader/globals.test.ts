// Global variables: .rodata constants set in the spec before load change what the program
// does (libbpf's skel->rodata->x = ...), .data/.bss are live afterwards, .rodata is frozen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError } from '../../src/core/errors.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { getGlobal, loadObject, openObject, rewriteConstants, setGlobal } from '../../src/core/runtime/index.js';
import { ENGINES, ipv4Frame, readObject } from './util.js';

const OBJ = 'test/fixtures/c/global_data.o';

function load(edit: (spec: ReturnType<typeof openObject>['spec']) => void, engineIdx = 0) {
  const o = openObject(readObject(OBJ));
  edit(o.spec);
  const lines: string[] = [];
  const coll = loadObject(new Runtime(), o.spec, { engine: ENGINES[engineIdx][1], trace: (l) => lines.push(l) });
  return { coll, lines, run: (len: number) => coll.programs.tc_global.run({ data: ipv4Frame(len) }).retval };
}

test('.rodata set before load changes behaviour, in both engines', () => {
  for (const i of ENGINES.keys()) {
    const dflt = load(() => {}, i);
    assert.equal(getGlobal(openObject(readObject(OBJ)).spec, 'limit'), 100n);
    dflt.run(64);
    assert.deepEqual(dflt.lines, [], 'limit 100: a 64-byte packet is not big');
    const low = load((s) => setGlobal(s, 'limit', 10), i);
    low.run(64);
    low.run(9 + 34);
    assert.deepEqual(low.lines, ['big packet 64', 'big packet 43']);
    const high = load((s) => rewriteConstants(s, { limit: 1000 }), i);
    high.run(300);
    assert.deepEqual(high.lines, []);
  }
});

test('.data initial values come from the spec; .data/.bss are live; .rodata is read-only after load', () => {
  const g = load((s) => setGlobal(s, 'counter', 41));
  assert.equal(g.run(40), 42n);
  assert.equal(g.run(40), 43n);
  assert.equal(g.coll.getGlobal('total'), 80n);
  assert.equal(g.coll.getGlobal('hits'), 2n);
  g.coll.setGlobal('counter', 100);
  assert.equal(g.run(40), 101n);
  assert.throws(() => g.coll.setGlobal('limit', 1), (e: unknown) => isBpfError(e) && e.code === 'EPERM' && /read-only after load/.test(e.message));
  assert.equal(g.coll.getGlobal('limit'), 100n);
});

test('bad variable names and values are clear errors', () => {
  const { spec } = openObject(readObject(OBJ));
  assert.throws(() => setGlobal(spec, 'nope', 1), (e: unknown) => isBpfError(e) && e.code === 'ENOENT' && /known: .*limit/.test(e.message));
  assert.throws(() => setGlobal(spec, 'limit', 1n << 40n), (e: unknown) => isBpfError(e) && e.code === 'EINVAL' && /does not fit/.test(e.message));
  assert.throws(() => setGlobal(spec, 'limit', new Uint8Array(5)), (e: unknown) => isBpfError(e) && e.code === 'EINVAL');
  setGlobal(spec, 'limit', -1);
  assert.equal(getGlobal(spec, 'limit'), -1n, 'int is signed');
});
