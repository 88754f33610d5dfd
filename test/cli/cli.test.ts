// The CLI as a user runs it: bin/tsbpf in a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = 'bin/tsbpf';
const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cli-'));

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h;
}

test('prog run: assembly file with data-in, plain and JSON output, every engine', () => {
  const data = new TextEncoder().encode('the quick brown fox');
  writeFileSync(join(dir, 'in.bin'), data);
  for (const engine of ['interp', 'jit']) {
    const plain = run(['prog', 'run', 'examples/fnv1a.s', '--data-in', join(dir, 'in.bin'), '--engine', engine]);
    assert.equal(plain.status, 0, plain.err);
    assert.match(plain.out, new RegExp(`^Return value: ${fnv1a(data)}, duration: \\d+ns$`, 'm'));
    const json = run(['prog', 'run', 'examples/fnv1a.s', '--data-in', join(dir, 'in.bin'), '--json', '--repeat', '3', '--engine', engine]);
    assert.equal(json.status, 0, json.err);
    const obj = JSON.parse(json.out);
    assert.equal(obj.retval, String(fnv1a(data)));
    assert.equal(typeof obj.duration_ns, 'number');
  }
});

test('prog run: ubpf syntax, raw .bin round trip through asm -o, data-out', () => {
  const words = new BigUint64Array([1n, 2n, 0xffffffffffffffffn]);
  writeFileSync(join(dir, 'w.bin'), new Uint8Array(words.buffer));
  const asm = run(['asm', 'examples/sum.asm', '-o', join(dir, 'sum.bin')]);
  assert.equal(asm.status, 0, asm.err);
  const r = run(['prog', 'run', join(dir, 'sum.bin'), '--data-in', join(dir, 'w.bin'), '--json', '--data-out', join(dir, 'out.bin')]);
  assert.equal(r.status, 0, r.err);
  const obj = JSON.parse(r.out);
  assert.equal(obj.retval, '2'); // 1 + 2 + (2^64 - 1) wraps to 2
  assert.equal(obj.data_out, Buffer.from(words.buffer).toString('hex'));
  assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'out.bin'))), new Uint8Array(words.buffer));
});

test('disasm prints llvm-objdump syntax with instruction indices', () => {
  const r = run(['disasm', 'examples/fnv1a.s']);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /^\s+0:\tw0 = -2128831035$/m);
  assert.match(r.out, /^\s+2:\tif r3 >= r2 goto \+7$/m);
  assert.match(r.out, /^\s+10:\texit$/m);
});

test('conformance-plugin: program hex on stdin, memory as argument, r0 in hex', () => {
  // r0 = *(u32 *)(r1 + 0); exit
  const prog = '61 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00';
  for (const engine of ['interp', 'jit']) {
    const r = run(['conformance-plugin', '--engine', engine, 'efbeadde'], prog);
    assert.equal(r.status, 0, r.err);
    assert.equal(r.out.trim(), 'deadbeef');
  }
  const bad = run(['conformance-plugin', 'efbeadde'], '61 10 08 00 00 00 00 00 95 00 00 00 00 00 00 00');
  assert.notEqual(bad.status, 0);
  assert.match(bad.err, /insn #0/);
});

test('bad input gives a clear error, never a crash', () => {
  const cases: [string[], RegExp, string?][] = [
    [['prog', 'run', 'does-not-exist.s'], /cannot read does-not-exist\.s/],
    [['nonsense'], /unknown command "nonsense"/],
    [['prog', 'run', 'examples/fnv1a.s', '--engine', 'warp'], /unknown engine "warp"/],
    [['prog', 'run', 'examples/fnv1a.s', '--repeat', '0'], /--repeat must be a positive integer/],
    [['conformance-plugin'], /unknown opcode 0xff/, 'ff 00 00 00 00 00 00 00'],
    [['conformance-plugin'], /lddw is missing its second half/, '18 00 00 00 00 00 00 00'],
    [['conformance-plugin'], /jump out of range/, '05 00 05 00 00 00 00 00 95 00 00 00 00 00 00 00'],
  ];
  for (const [args, re, input] of cases) {
    const r = run(args, input);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.err, re);
    assert.doesNotMatch(r.err, /at .*\.js:\d+/, 'no stack trace');
  }
  writeFileSync(join(dir, 'bad.s'), 'r0 = 1\n  r11 = 2\nexit\n');
  const r = run(['prog', 'run', join(dir, 'bad.s')]);
  assert.notEqual(r.status, 0);
  assert.match(r.err, /bad\.s:2/);
});

test('an infinite loop ends with a budget error', () => {
  writeFileSync(join(dir, 'loop.s'), 'l:\n goto l\n');
  for (const engine of ['interp', 'jit']) {
    const r = run(['prog', 'run', join(dir, 'loop.s'), '--budget', '100000', '--engine', engine]);
    assert.notEqual(r.status, 0);
    assert.match(r.err, /E_BUDGET/);
  }
});
