// The CLI on clang-compiled objects: program selection, XDP runs, xlated dumps with source, BTF dumps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-elf-'));
function run(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/tsbpf', ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('prog run on an XDP object: the packet is data_in, same result in both engines', () => {
  const data = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
  writeFileSync(join(dir, 'pkt.bin'), data);
  let h = 2166136261;
  for (const b of data) h = Math.imul(h ^ b, 16777619) >>> 0;
  for (const engine of ['interp', 'jit']) {
    const r = run(['prog', 'run', 'bench/programs/fnv1a.o', '--data-in', join(dir, 'pkt.bin'), '--engine', engine, '--json']);
    assert.equal(r.status, 0, r.err);
    assert.equal(JSON.parse(r.out).retval, String(h & 0x7fffffff));
  }
  // too short for the program's bounds check: it returns 0
  writeFileSync(join(dir, 'short.bin'), data.subarray(0, 10));
  const short = run(['prog', 'run', 'bench/programs/fnv1a.o', '--data-in', join(dir, 'short.bin'), '--json']);
  assert.equal(JSON.parse(short.out).retval, '0');
});

test('--section selects by section or function name and lists programs when missing', () => {
  const ok = run(['prog', 'dump', 'xlated', 'test/fixtures/c/multi_sec.o', '--section', 'nope']);
  assert.notEqual(ok.status, 0);
  assert.match(ok.err, /no program in section or named "nope"; programs: /);
  assert.match(run(['prog', 'run', 'examples/fnv1a.s', '--section', 'xdp']).err, /applies to ELF objects/);
});

test('prog run loads objects with maps (more in test/loader/cli.test.ts)', () => {
  const r = run(['prog', 'run', 'test/fixtures/c/xdp_maps.o', '--pin-root', join(dir, 'pins'), '--json']);
  assert.equal(r.status, 0, r.err);
  assert.equal(JSON.parse(r.out).retval, '2');
});

test('prog dump xlated shows functions and source lines from BTF line info', () => {
  const r = run(['prog', 'dump', 'xlated', 'test/fixtures/c/subprogs.o']);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /^xdp_calls:$/m);
  assert.match(r.out, /^add3:$/m);
  assert.match(r.out, /^; return a \+ b \+ c; \[.*subprogs\.c:7:\d+\]$/m);
  assert.match(r.out, /^\s+\d+: \(85\) call pc\+\d+$/m);
});

test('btf dump file prints what bpftool prints', (t) => {
  const mine = run(['btf', 'dump', 'file', 'test/fixtures/c/xdp_maps.o']);
  assert.equal(mine.status, 0, mine.err);
  assert.match(mine.out, /^\[1\] /);
  const bt = spawnSync('bpftool', ['btf', 'dump', 'file', 'test/fixtures/c/xdp_maps.o'], { encoding: 'utf8' });
  if (bt.error || bt.status !== 0) return t.skip('bpftool not available');
  assert.equal(mine.out.trimEnd(), bt.stdout.trimEnd());
});
