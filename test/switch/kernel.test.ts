/**
 * The same XDP object gives the same verdicts and output bytes in tsbpf's switch and in the
 * kernel (BPF_PROG_TEST_RUN, where the ingress device is lo, ifindex 1 = switch port 0).
 * Skips with the reason when kernel BPF is unavailable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '../../src/core/isa/index.js';
import { jit } from '../../src/core/jit/index.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { kernelAvailable, kernelRun } from '../../src/node/kernel/index.js';
import { Switch } from '../../src/switch/dataplane/switch.js';
import { example, frame } from './util.js';

const avail = kernelAvailable();
const skip = avail.ok ? false : `kernel BPF unavailable: ${avail.reason}`;
if (skip) console.log(`# ${skip}`);

const FRAMES = [
  frame('02:00:00:00:00:03', 1),
  frame('02:00:00:00:00:01', 2, 128),
  frame('ff:ff:ff:ff:ff:ff', 3),
  frame('04:00:00:00:00:01', 4),
  frame('02:00:00:00:00:02', 5, 1500),
  new Uint8Array(14).fill(2),
  new Uint8Array([2, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 8, 0]),
];

for (const name of ['xdp_nologic', 'xdp_l2_static']) {
  test(`${name}: tsbpf and the kernel agree on every verdict and output frame`, { skip }, () => {
    const prog = example(name);
    const bytes = encode(prog.insns);
    for (const engine of [jit, interpreter]) {
      const sw = new Switch({ ports: 4, engine });
      sw.attach(prog);
      FRAMES.forEach((f, k) => {
        const kr = kernelRun(bytes, f);
        const ours = sw.probe(0, f);
        assert.equal(ours.r0, kr.retval, `frame ${k}: verdict (${engine.name})`);
        assert.deepEqual(ours.data, kr.dataOut, `frame ${k}: output bytes (${engine.name})`);
      });
    }
  });
}
