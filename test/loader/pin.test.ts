// Pinning: maps and programs saved to a pin store and found again, with contents, by a new
// runtime and by a restarted process; damaged or incompatible pins are clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isBpfError } from '../../src/core/errors.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { mapCreate, mapFreeze, mapUpdateElem, mapLookupElem } from '../../src/core/runtime/commands.js';
import {
  MemoryPinStore, getPinnedProgram, loadObject, openObject, openPinnedMap, pinMap, pinProgram, syncPins,
} from '../../src/core/runtime/index.js';
import { BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY } from '../../src/core/maps/layout.js';
import { openPinned, fileStore } from '../../src/node/pin/index.js';
import { ipv4Frame, readObject, tsbpfMapEntries } from './util.js';

const dist = resolve('dist/src');

function u64(b: Uint8Array): bigint {
  return Buffer.from(b).readBigUInt64LE();
}

test('a pinned map is found with its contents by another runtime (hash, per-CPU with another CPU count, frozen)', () => {
  const store = new MemoryPinStore();
  const a = new Runtime({ cpus: 2 });
  const h = mapCreate(a, { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 16, name: 'h' });
  for (let i = 0; i < 5; i++) mapUpdateElem(a, h, new Uint8Array([i, 0, 0, 0]), new Uint8Array(8).fill(i + 1));
  const pc = mapCreate(a, { mapType: BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2, name: 'pc' });
  mapUpdateElem(a, pc, new Uint8Array(4), new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]));
  mapFreeze(a, pc);
  pinMap(a, store, h, '/p/h');
  pinMap(a, store, pc, '/p/pc');
  const b = new Runtime({ cpus: 3 });
  const hb = openPinnedMap(b, store, '/p/h');
  assert.deepEqual(tsbpfMapEntries(b, hb), tsbpfMapEntries(a, h));
  assert.equal(openPinnedMap(b, store, '/p/h'), hb, 'one live map per path and runtime');
  const pcb = openPinnedMap(b, store, '/p/pc');
  assert.deepEqual([...mapLookupElem(b, pcb, new Uint8Array(4))], [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.throws(() => mapUpdateElem(b, pcb, new Uint8Array(4), new Uint8Array(24)), (e: unknown) => isBpfError(e) && e.code === 'EPERM');
  // later changes reach the store on sync
  mapUpdateElem(b, hb, new Uint8Array([9, 0, 0, 0]), new Uint8Array(8).fill(9));
  syncPins(b);
  const c = new Runtime();
  assert.equal(tsbpfMapEntries(c, openPinnedMap(c, store, '/p/h')).length, 6);
});

test('damaged, missing and incompatible pins are E_PIN errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-pin-'));
  const rt = new Runtime();
  const fd = mapCreate(rt, { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 4, name: 'x' });
  pinMap(rt, fileStore, fd, join(dir, 'x'));
  const good = readFileSync(join(dir, 'x'));
  const flipped = Buffer.from(good);
  flipped[flipped.length - 3] ^= 0x40;
  writeFileSync(join(dir, 'bad'), flipped);
  writeFileSync(join(dir, 'short'), good.subarray(0, good.length - 1));
  const e = (p: string, re: RegExp) => assert.throws(() => openPinned(join(dir, p)), (x: unknown) => isBpfError(x) && x.code === 'E_PIN' && re.test(x.message));
  e('bad', /checksum mismatch/);
  e('short', /length/);
  e('none', /nothing is pinned there/);
  // counters is pinned by name in xdp_maps.o: a different map at its path is refused
  writeFileSync(join(dir, 'counters'), good);
  const o = openObject(readObject('test/fixtures/c/xdp_maps.o'));
  assert.throws(() => loadObject(new Runtime(), o.spec, { pins: { store: fileStore, root: dir } }),
    (x: unknown) => isBpfError(x) && x.code === 'E_PIN' && /map "counters": couldn't reuse pinned map .* parameter mismatch/.test(x.message));
});

function child(script: string, env: Record<string, string>): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

const RUN_XDP = `
  import { readFileSync } from 'node:fs';
  import { Runtime, loadObjectBytes } from '${dist}/core/runtime/index.js';
  import { fileStore } from '${dist}/node/pin/index.js';
  const c = loadObjectBytes(new Runtime(), readFileSync('test/fixtures/c/xdp_maps.o'), { pins: { store: fileStore, root: process.env.ROOT } });
  for (let i = 0; i < Number(process.env.N); i++) c.programs.xdp_count.run({ data: new Uint8Array(64) });
  c.close();
  console.log(c.maps.counters.get(new Uint8Array(4))[0]);`;

test('by-name pinned maps persist across process restarts (libbpf LIBBPF_PIN_BY_NAME)', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsbpf-root-'));
  assert.equal(child(RUN_XDP, { ROOT: root, N: '3' }), '3');
  assert.equal(child(RUN_XDP, { ROOT: root, N: '2' }), '5', 'the second process continues from the pinned contents');
  const p = openPinned(join(root, 'counters'));
  assert.equal(p.info.name, 'counters');
  assert.equal(u64(mapLookupElem(p.rt, p.fd, new Uint8Array(4))), 5n);
  assert.ok(p.meta.btf && p.meta.btfValueTypeId > 0, 'BTF travels with the pinned map');
});

test('a pinned program is loaded again by another process and uses the pinned map', () => {
  const root = mkdtempSync(join(tmpdir(), 'tsbpf-prog-'));
  const o = openObject(readObject('test/fixtures/c/xdp_maps.o'));
  const rt = new Runtime();
  const coll = loadObject(rt, o.spec, { pins: { store: fileStore, root }, btfBytes: o.btfBytes });
  coll.programs.xdp_count.run({ data: ipv4Frame(64) });
  pinProgram(rt, fileStore, coll.programs.xdp_count, coll.fds, join(root, 'prog'));
  coll.close();
  const out = child(`
    import { Runtime, getPinnedProgram, syncPins } from '${dist}/core/runtime/index.js';
    import { fileStore } from '${dist}/node/pin/index.js';
    const rt = new Runtime();
    const p = getPinnedProgram(rt, fileStore, process.env.ROOT + '/prog');
    const r = p.run({ data: new Uint8Array(8) });
    syncPins(rt);
    console.log(p.name, p.type, String(r.retval));`, { ROOT: root });
  assert.equal(out, 'xdp_count xdp 2');
  const counters = openPinned(join(root, 'counters'));
  assert.equal(u64(mapLookupElem(counters.rt, counters.fd, new Uint8Array(4))), 1n, 'first run: 64-byte frame');
  assert.equal(u64(mapLookupElem(counters.rt, counters.fd, new Uint8Array([1, 0, 0, 0]))), 1n, 'second process: short frame');
  const again = getPinnedProgram(new Runtime(), fileStore, join(root, 'prog'));
  assert.equal(again.insns.length, coll.programs.xdp_count.insns.length);
});
