/**
 * bpf_xdp_adjust_head / _meta / _tail: the kernel's limits and results (compared with
 * BPF_PROG_TEST_RUN on the same object, where the kernel's buffer is 4096 bytes with 256 of
 * headroom and 320 of tailroom), the packet region following the frame in checked mode, and
 * forwarding of frames the helpers changed, byte for byte, through every loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/index.js';
import { encode } from '../../src/core/isa/index.js';
import { kernelAvailable, kernelRun } from '../../src/node/kernel/index.js';
import { Switch } from '../../src/switch/dataplane/switch.js';
import { drain, example, frame, MODES } from './util.js';

const avail = kernelAvailable();
const noKernel = avail.ok ? false : `kernel BPF unavailable: ${avail.reason}`;
if (noKernel) console.log(`# ${noKernel}`);

/** probeFrame is a frame for xdp_adjust_probe carrying the meta, head and tail deltas. */
function probeFrame(len: number, meta: number, head: number, tail: number): Uint8Array {
  const f = new Uint8Array(len).map((_, i) => (i * 7 + 3) & 0xff);
  const dv = new DataView(f.buffer);
  dv.setInt16(42, meta, true);
  dv.setInt16(44, head, true);
  dv.setInt16(46, tail, true);
  return f;
}

// Limits: headroom 256 - 40 reserved = 216; metadata multiple of 4; data_end >= data + 14;
// tail up to the buffer end minus tailroom (4096 - 256 - 320 = 3520 bytes of frame).
const CASES: Array<[number, number, number, number]> = [
  [60, 0, 0, 0], [60, -4, 0, 0], [60, -36, 0, 0], [60, -216, 0, 0], [60, -220, 0, 0], [60, -6, 0, 0], [60, 4, 0, 0],
  [60, 0, -216, 0], [60, 0, -217, 0], [60, -8, -208, 0], [60, -8, -209, 0], [60, 0, 20, 0], [60, 0, 46, 0], [60, 0, 47, 0],
  [60, 0, 0, -46], [60, 0, 0, -47], [60, 0, 0, 100], [60, 0, 0, 3460], [60, 0, 0, 3461], [60, -16, -8, 8], [200, -12, 30, -100],
  [1500, -32, -64, -1000], [60, -3, 5, 7],
];

for (const { label, opts } of MODES) {
  test(`adjust helpers agree with the kernel on results, limits and bytes (${label})`, { skip: noKernel }, () => {
    const prog = example('xdp_adjust_probe');
    const bytes = encode(prog.insns);
    const sw = new Switch({ ports: 2, ...opts, frameSize: 4096, tailroom: 320 });
    sw.attach(prog);
    for (const [len, m, h, t] of CASES) {
      const f = probeFrame(len, m, h, t);
      const k = kernelRun(bytes, f, { dataOutSize: 4096 });
      const ours = sw.probe(0, f);
      const what = `len ${len} meta ${m} head ${h} tail ${t}`;
      assert.equal(ours.r0.toString(16), k.retval.toString(16), `${what}: verdict`);
      assert.deepEqual(new Uint8Array([...ours.meta, ...ours.data]), k.dataOut, `${what}: metadata + frame`);
    }
  });

  test(`adjust helpers without the kernel: results and bytes (${label})`, () => {
    const sw = new Switch({ ports: 2, ...opts, frameSize: 4096, tailroom: 320 });
    sw.attach(example('xdp_adjust_probe'));
    const grow = sw.probe(0, probeFrame(60, -8, -16, 4));
    assert.equal(grow.r0, 0);
    assert.equal(grow.data.length, 60 + 16 + 4);
    assert.deepEqual([...grow.data.subarray(0, 3)], [0, 0, 0]);
    assert.deepEqual([...grow.data.subarray(grow.data.length - 4)], [0, 0, 0, 0], 'tail growth is zeroed');
    assert.equal(grow.meta.length, 8);
    assert.equal(new DataView(grow.meta.buffer, grow.meta.byteOffset).getUint32(0, true), 0xc0ffee08);
    const bad = sw.probe(0, probeFrame(60, -6, 47, -47));
    assert.equal(bad.r0, 0xf3eaea, '-EACCES, -EINVAL, -EINVAL');
    assert.equal(bad.data.length, 60, 'failed calls change nothing');
  });

  test(`the packet region follows bpf_xdp_adjust_head in checked mode (${label})`, () => {
    const shrinkThenReadOld = 'r6 = r1\nr2 = 8\ncall 44\nr2 = *(u32 *)(r6 + 0)\nr0 = *(u8 *)(r2 - 1)\nr0 = 3\nexit';
    const sw = new Switch({ ports: 2, ...opts });
    sw.attach({ kind: 'xdp', name: 'old', insns: assemble(shrinkThenReadOld) });
    sw.receive(0, frame('02:00:00:00:00:01', 1));
    sw.run();
    assert.equal(sw.stats()[0].drop_fault, 1);
    assert.equal(sw.trace[0].code, 'E_MEM');
    assert.equal(sw.trace[0].insn, 4);
    // grow by 8, write the new bytes, send back out (XDP_TX): 8 more bytes in front
    const growAndWrite = 'r6 = r1\nr2 = -8\ncall 44\nr2 = *(u32 *)(r6 + 0)\nr3 = 0x1122334455667788 ll\n*(u64 *)(r2 + 0) = r3\nr0 = 3\nexit';
    sw.attach({ kind: 'xdp', name: 'grow', insns: assemble(growAndWrite) });
    const f = frame('02:00:00:00:00:01', 2);
    sw.receive(0, f);
    sw.run();
    const out = drain(sw)[0];
    assert.equal(out.length, 1);
    assert.deepEqual(out[0], new Uint8Array([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, ...f]));
    // after the tail shrinks, the cut bytes are out of bounds
    const cutThenRead = 'r6 = r1\nr2 = -10\ncall 65\nr2 = *(u32 *)(r6 + 4)\nr0 = *(u8 *)(r2 + 0)\nr0 = 3\nexit';
    sw.attach({ kind: 'xdp', name: 'cut', insns: assemble(cutThenRead) });
    sw.receive(0, f);
    sw.run();
    assert.equal(sw.stats()[0].drop_fault, 2);
    assert.equal(sw.pool.available(), sw.pool.count);
  });

  test(`xdp_vlan_push and xdp_trim forward changed frames byte for byte (${label})`, () => {
    const sw = new Switch({ ports: 3, ...opts, batch: 4 });
    sw.attach(example('xdp_vlan_push'));
    const plain = frame('02:00:00:00:00:09', 1, 80);
    const tagged = new Uint8Array([...plain.subarray(0, 12), 0x81, 0x00, 0x00, 100, ...plain.subarray(12)]);
    for (let k = 0; k < 5; k++) sw.receive(1, plain);
    sw.receive(0, tagged);
    sw.run();
    let out = drain(sw);
    // port 0 runs first: its tagged frame leaves port 1 (ifindex 2) untagged; then port 1's
    // five untagged frames come back out of port 1 tagged
    assert.deepEqual(out[1], [plain, ...new Array(5).fill(tagged)]);
    assert.deepEqual(out[0], []);
    assert.equal(sw.stats()[0].act_redirect, 1);
    assert.equal(sw.stats()[1].act_tx, 5);

    sw.attach(example('xdp_trim'));
    const long = frame('02:00:00:00:00:09', 2, 200), short = frame('02:00:00:00:00:09', 3, 42), mid = frame('02:00:00:00:00:09', 4, 70);
    for (const f of [long, short, mid]) sw.receive(0, f);
    sw.run();
    out = drain(sw);
    const expectLong = Uint8Array.from(long.subarray(0, 96));
    expectLong[94] = 0; expectLong[95] = 200;
    const expectShort = new Uint8Array(64);
    expectShort.set(short);
    expectShort[62] = 0; expectShort[63] = 42;
    const expectMid = Uint8Array.from(mid);
    expectMid[68] = 0; expectMid[69] = 70;
    assert.deepEqual(out[1], [expectLong]);
    assert.deepEqual(out[2], [expectShort, expectMid]);
    assert.equal(sw.pool.available(), sw.pool.count);
  });
}
