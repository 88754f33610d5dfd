// `tsbpf map dump|lookup` of maps with BTF, against bpftool: the same object
// (test/loader/fixtures/btf_values.c: bitfields, signed values, char, bool, enums, a union, a
// pointer, nested arrays of structs, a 128-bit integer, a per-CPU array, a hash with a struct
// key and .data) is loaded by `tsbpf prog load ... pinmaps` and by `bpftool prog load`, the
// same bytes are written into both with `map update`, and the outputs (plain and -j) must be
// byte-identical. Without the kernel, the tsbpf side is checked on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const OBJ = 'test/loader/fixtures/btf_values.o';
const dir = mkdtempSync(join(tmpdir(), 'tsbpf-map-btf-'));
const env = { ...process.env, TSBPF_PIN_ROOT: join(dir, 'root') };

function tsbpf(args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['bin/tsbpf', ...args], { encoding: 'utf8', env });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function bpftool(args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync('bpftool', args, { encoding: 'utf8' });
  return { status: r.error ? -1 : r.status, out: r.stdout ?? '', err: r.stderr ?? String(r.error) };
}

const VALUE = '35 12 ab cd fe ff ff ff 00 00 00 00 00 00 00 80 41 01 02 00 ef be ad de 10 32 54 76 98 ba dc fe 50 00 f9 6e 61 6d 65 00 ' +
  '51 00 07 01 02 03 04 05 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ff ff ff ff ff ff ff ff 01 00 00 00 00 00 00 00';
/** UPDATES: map name (tsbpf pin name) -> bpftool `map update` arguments after the map. */
const UPDATES: Record<string, string[][]> = {
  values: [['key', '1', '0', '0', '0', 'value', 'hex', ...VALUE.split(' ')]],
  by_key: [['key', 'hex', '02', '00', '00', '00', '00', '01', '0a', '00', 'value', 'hex', 'fe', 'ff']],
  per_cpu: [['key', '1', '0', '0', '0', 'value', 'hex', '2a', '00', 'ff', '41', '42', '43', '44', '45']],
  data: [['key', '0', '0', '0', '0', 'value', 'hex', '03', '00', '00', '00', '00', '00', '00', '00', '68', '69', '00', '00', '00', '00']],
};

// loadTsbpf loads the object with its maps pinned under dir/maps and applies UPDATES.
function loadTsbpf(): string {
  const maps = join(dir, 'maps');
  const r = tsbpf(['prog', 'load', OBJ, join(dir, 'prog'), 'pinmaps', maps]);
  assert.equal(r.status, 0, r.err);
  for (const [name, ups] of Object.entries(UPDATES)) {
    for (const u of ups) assert.equal(tsbpf(['map', 'update', 'pinned', join(maps, name), ...u]).status, 0);
  }
  return maps;
}

const maps = loadTsbpf();
const dump = (name: string, ...extra: string[]) => tsbpf(['map', 'dump', 'pinned', join(maps, name), ...extra]);

test('map dump prints BTF-typed values as bpftool does (plain)', () => {
  const out = dump('values').out;
  assert.match(out, /^\[\{\n {8}"key": 0,\n {8}"value": \{\n {12}"lo": 0x0,/);
  for (const line of ['"lo": 0x5,', '"mid": 0x123,', '"hi": 0xcdab,', '"neg": -2,', '"big": -9223372036854775808,', '"ch": 65,', '"flag": true,',
    '"color": -559038737,', '"color": "RED",', '"word": 1985229328,', '"ptr": 0x656d616ef90050,', '"ptr": (nil),', '"name": ""', '"wide": 0x1ffffffffffffffff']) {
    assert.ok(out.includes(line), `${line} in\n${out}`);
  }
  assert.match(out, /"name": \[1,2,3,4,5\n {20}\]/);
  assert.doesNotMatch(out, /Found/);
  assert.match(dump('by_key').out, /"key": \{\n {12}"mac": \[2,0,0,0,0,1\n {12}\],\n {12}"vlan": 10\n {8}\},\n {8}"value": -2\n/);
  assert.match(dump('data').out, /"\.data": \[\{\n {20}"hits": 3\n {16}\},\{\n {20}"label": "hi"\n/);
  const pc = dump('per_cpu').out;
  assert.equal(pc.match(/"cpu": \d+/g)?.length, 2 * cpus().length);
  assert.match(pc, /"port": 42,\n\s+"delta": -1,/);
});

test('map dump -j adds "formatted" with hex quoted and pointers in decimal; lookup prints one entry', () => {
  const j = JSON.parse(dump('values', '-j').out) as Array<{ key: string[]; value: string[]; formatted: { key: number; value: Record<string, unknown> } }>;
  assert.equal(j.length, 3);
  assert.deepEqual(j[1].key, ['0x01', '0x00', '0x00', '0x00']);
  assert.equal(j[1].value[0], '0x35');
  assert.equal(j[1].formatted.key, 1);
  assert.equal(j[1].formatted.value.mid, '0x123');
  assert.equal(j[1].formatted.value.ptr, 28549237888843856);
  assert.equal(j[1].formatted.value.wide, '0x1ffffffffffffffff');
  const pc = JSON.parse(dump('per_cpu', '-j').out);
  assert.deepEqual(pc[1].formatted.values[0], { cpu: 0, value: { port: 42, delta: -1, name: [65, 66, 67, 68, 69] } });
  const one = tsbpf(['map', 'lookup', 'pinned', join(maps, 'by_key'), 'key', 'hex', '02', '00', '00', '00', '00', '01', '0a', '00']);
  assert.equal(one.out, '{\n    "key": {\n        "mac": [2,0,0,0,0,1\n        ],\n        "vlan": 10\n    },\n    "value": -2\n}\n');
});

test('maps without BTF types still print bytes', () => {
  const r = tsbpf(['prog', 'loadall', 'test/fixtures/c/legacy_maps.o', join(dir, 'legacy'), 'pinmaps', join(dir, 'legacy-maps')]);
  assert.equal(r.status, 0, r.err);
  const names = spawnSync('ls', [join(dir, 'legacy-maps')], { encoding: 'utf8' }).stdout.trim().split('\n');
  const out = tsbpf(['map', 'dump', 'pinned', join(dir, 'legacy-maps', names[0])]).out;
  assert.match(out, /Found \d+ elements?\n$/);
});

// kernelMaps loads the object with bpftool and returns its maps by tsbpf pin name (id), or a reason.
function kernelMaps(pin: string): Map<string, number> | string {
  const v = bpftool(['version']);
  if (v.status !== 0) return 'bpftool is not installed';
  const r = bpftool(['prog', 'load', OBJ, pin]);
  if (r.status !== 0) return `bpftool prog load failed (bpf() not allowed?): ${r.err.trim().split('\n').pop()}`;
  const ids = (JSON.parse(bpftool(['-j', 'prog', 'show', 'pinned', pin]).out) as { map_ids: number[] }).map_ids;
  const out = new Map<string, number>();
  for (const id of ids) {
    const name = (JSON.parse(bpftool(['-j', 'map', 'show', 'id', String(id)]).out) as { name: string }).name;
    out.set(name.endsWith('.data') ? 'data' : name, id);
  }
  return out;
}

test('map dump and lookup with BTF are byte-identical to bpftool on the kernel', (t) => {
  const pin = `/sys/fs/bpf/tsbpf-map-btf-${process.pid}`;
  const km = kernelMaps(pin);
  if (typeof km === 'string') return t.skip(km);
  try {
    const possible = spawnSync('sh', ['-c', 'cat /sys/devices/system/cpu/possible'], { encoding: 'utf8' }).stdout.trim();
    const ncpu = possible.split(',').reduce((n, r) => n + (r.includes('-') ? Number(r.split('-')[1]) - Number(r.split('-')[0]) + 1 : 1), 0);
    let compared = 0;
    for (const [name, ups] of Object.entries(UPDATES)) {
      const id = km.get(name);
      assert.ok(id, `kernel map ${name}`);
      for (const u of ups) assert.equal(bpftool(['map', 'update', 'id', String(id), ...u]).status, 0);
      if (name === 'per_cpu' && ncpu !== cpus().length) {
        t.diagnostic(`per_cpu not compared: ${ncpu} possible CPUs, ${cpus().length} online`);
        continue;
      }
      for (const j of [[], ['-j']]) {
        assert.equal(dump(name, ...j).out, bpftool([...j, 'map', 'dump', 'id', String(id)]).out, `map dump ${j.join(' ')} of ${name}`);
        compared++;
      }
    }
    const key = UPDATES.values[0].slice(0, 5);
    for (const j of [[], ['-j']]) {
      assert.equal(tsbpf(['map', 'lookup', 'pinned', join(maps, 'values'), ...key, ...j]).out, bpftool([...j, 'map', 'lookup', 'id', String(km.get('values')), ...key]).out);
    }
    t.diagnostic(`${compared} dumps compared`);
  } finally {
    rmSync(pin, { force: true });
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
