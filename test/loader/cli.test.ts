// The loader through the CLI: prog run with maps/global data/pins, prog load/loadall/show,
// verifier flags, C source, and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapLookupElem } from '../../src/core/runtime/commands.js';
import { openPinned } from '../../src/node/pin/index.js';
import { findClang } from '../../src/node/bcc/index.js';
import { ipv4Frame } from './util.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-loader-cli-'));
const root = join(dir, 'pins');
function run(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/tsbpf', ...args], { encoding: 'utf8', env: { ...process.env, TSBPF_PIN_ROOT: root } });
  return { status: r.status, out: r.stdout, err: r.stderr };
}
const pkt = join(dir, 'pkt.bin');
writeFileSync(pkt, ipv4Frame(64));

test('prog run: maps pinned by name accumulate across runs; other program types get their contexts', () => {
  for (let i = 1; i <= 3; i++) {
    const r = run(['prog', 'run', 'test/fixtures/c/xdp_maps.o', '--data-in', pkt, '--json', '--engine', i % 2 ? 'jit' : 'interp']);
    assert.equal(r.status, 0, r.err);
    assert.equal(JSON.parse(r.out).retval, '2');
  }
  const m = openPinned(join(root, 'counters'));
  assert.equal(Buffer.from(mapLookupElem(m.rt, m.fd, new Uint8Array(4))).readBigUInt64LE(), 3n);
  assert.equal(JSON.parse(run(['prog', 'run', 'test/fixtures/c/subprogs.o', '--section', 'tc', '--data-in', pkt, '--json']).out).retval, '67');
  assert.equal(JSON.parse(run(['prog', 'run', 'test/fixtures/c/global_data.o', '--data-in', pkt, '--json']).out).retval, '8');
  const sock = run(['prog', 'run', 'test/fixtures/c/legacy_maps.o', '--data-in', pkt, '--data-out', '-']);
  assert.match(sock.out, /^Return value: 0, duration: \d+ns\ndata_out: (00 ){14}45/);
});

test('prog run --trace prints bpf_printk lines', () => {
  const big = join(dir, 'big.bin');
  writeFileSync(big, ipv4Frame(150));
  const r = run(['prog', 'run', 'test/fixtures/c/global_data.o', '--data-in', big, '--trace']);
  assert.equal(r.status, 0, r.err);
  assert.match(r.err, /^trace: big packet 150$/m);
});

test('prog load pins a program, prog show lists it, --log-level prints the verifier log', () => {
  const pin = join(dir, 'bpf', 'sub');
  const r = run(['prog', 'load', 'test/fixtures/c/subprogs.o', pin, '--log-level', '1']);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /^xdp_calls: .*processed \d+ insns/m);
  assert.match(r.out, /^loaded tc_calls: sched_cls \(section tc, \d+ insns\)$/m);
  assert.match(r.out, /^pinned xdp_calls at /m);
  const show = run(['prog', 'show', join(dir, 'bpf')]);
  assert.equal(show.status, 0, show.err);
  assert.match(show.out, /^1: xdp  name xdp_calls\n\txlated \d+B\n\tpinned .*sub$/m);
  const all = run(['prog', 'loadall', 'test/fixtures/c/multi_sec.o', join(dir, 'all'), 'pinmaps', join(dir, 'maps')]);
  assert.equal(all.status, 0, all.err);
  assert.ok(existsSync(join(dir, 'all', 'p_sock2')) && existsSync(join(dir, 'all', 'p_custom')));
  const json = JSON.parse(run(['prog', 'show', join(dir, 'all'), '--json']).out);
  assert.equal(json.length, 14);
  const g = run(['prog', 'loadall', 'test/fixtures/c/global_data.o', join(dir, 'g'), 'pinmaps', join(dir, 'gm')]);
  assert.equal(g.status, 0, g.err);
  assert.ok(existsSync(join(dir, 'gm', 'rodata')) && existsSync(join(dir, 'gm', 'data')));
});

test('prog load reports failures with a non-zero exit', () => {
  const missing = run(['prog', 'load', 'test/fixtures/c/multi_sec.o', '--section', 'nope']);
  assert.notEqual(missing.status, 0);
  assert.match(missing.err, /no program in section or named "nope"/);
  const be = run(['prog', 'load', 'test/fixtures/c/subprogs.bpfeb.o']);
  assert.notEqual(be.status, 0);
  assert.match(be.err, /big-endian/);
});

test('prog load FILE.c compiles; the verifier rejects unsafe programs unless --no-verify', (t) => {
  if (!findClang()) return t.skip('clang not installed');
  const ok = join(dir, 'ok.c');
  writeFileSync(ok, '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nSEC("xdp") int pass(struct xdp_md *c) { return XDP_PASS; }\nchar L[] SEC("license") = "GPL";\n');
  const r = run(['prog', 'load', ok]);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /^loaded pass: xdp/m);
  const bad = join(dir, 'bad.c');
  writeFileSync(bad, '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nSEC("xdp") int peek(struct xdp_md *c) { return *(unsigned char *)(long)c->data; }\nchar L[] SEC("license") = "GPL";\n');
  const rej = run(['prog', 'load', bad]);
  assert.equal(rej.status, 1);
  assert.match(rej.err, /peek \(xdp\): program "peek" rejected by the verifier/);
  assert.equal(run(['prog', 'load', bad, '--no-verify']).status, 0);
  assert.equal(JSON.parse(run(['prog', 'run', bad, '--no-verify', '--data-in', pkt, '--json']).out).retval, '2');
});
