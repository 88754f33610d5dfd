/**
 * XDP actions and bad input: aborts, unknown actions, faults, runaway programs, redirects to
 * missing ports, bad flags, truncated and oversized frames, a full pool and full rings. Every
 * case is a counted drop with a reason (traced where exceptional) and the switch keeps running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/index.js';
import { jit } from '../../src/core/jit/index.js';
import { Switch, type SwitchOptions } from '../../src/switch/dataplane/switch.js';
import { drain, example, frame, MODES } from './util.js';

function xdp(text: string, opts: Partial<SwitchOptions> = {}): Switch {
  const sw = new Switch({ ports: 2, engine: jit, ...opts });
  sw.attach({ kind: 'xdp', name: 't', insns: assemble(text) });
  return sw;
}

/** sendAndCheckAlive sends one frame that the program would drop, then checks the switch still forwards. */
function stillForwards(sw: Switch): void {
  sw.attach(example('xdp_nologic'));
  const f = frame('02:00:00:00:00:01', 9);
  sw.receive(0, f);
  sw.run();
  assert.deepEqual(drain(sw)[1], [f]);
}

for (const { label, opts: mode } of MODES) {
  test(`XDP_ABORTED and unknown actions are counted, traced drops (${label})`, () => {
    const sw = xdp('r0 = *(u8 *)(r1 + 0)\nr0 = 0\nexit', mode);
    sw.attach({ kind: 'xdp', name: 'abort', insns: assemble('r0 = 0\nexit') });
    sw.receive(0, frame('02:00:00:00:00:01', 1));
    sw.run();
    sw.attach({ kind: 'xdp', name: 'bad', insns: assemble('r0 = 77\nexit') });
    sw.receive(0, frame('02:00:00:00:00:01', 2));
    sw.run();
    const s = sw.stats()[0];
    assert.equal(s.act_aborted, 1);
    assert.equal(s.drop_aborted, 1);
    assert.equal(s.drop_bad_action, 1);
    assert.deepEqual(sw.trace.map((e) => [e.reason, e.r0]), [['aborted', 0], ['bad_action', 77]]);
    assert.equal(sw.pool.available(), sw.pool.count);
    stillForwards(sw);
  });

  test(`a program reading past data_end faults (checked) and its frame is dropped (${label})`, () => {
    const sw = xdp('r2 = *(u32 *)(r1 + 4)\nr0 = *(u64 *)(r2 + 0)\nr0 = 2\nexit', mode);
    sw.receive(0, frame('02:00:00:00:00:01', 1));
    sw.run();
    assert.equal(sw.stats()[0].drop_fault, 1);
    assert.equal(sw.trace[0].reason, 'fault');
    assert.equal(sw.trace[0].code, 'E_MEM');
    assert.equal(sw.trace[0].insn, 1);
    stillForwards(sw);
  });

  test(`a program that never ends runs out of budget and its frame is dropped (${label})`, () => {
    const sw = xdp('r0 = 2\nlbl:\nr0 += 1\ngoto lbl\nexit', { ...mode, budget: 1000 });
    sw.receive(0, frame('02:00:00:00:00:01', 1));
    sw.run();
    assert.equal(sw.stats()[0].drop_fault, 1);
    assert.equal(sw.trace[0].code, 'E_BUDGET');
    stillForwards(sw);
  });
}

for (const { label, opts: mode } of MODES) {
test(`redirect to a missing ifindex, with flags, or without bpf_redirect drops with a reason (${label})`, () => {
  const sw = xdp('r1 = 9\nr2 = 0\ncall 23\nexit', mode);
  sw.receive(0, frame('02:00:00:00:00:01', 1));
  sw.run();
  sw.attach({ kind: 'xdp', name: 'flags', insns: assemble('r1 = 2\nr2 = 1\ncall 23\nexit') });
  sw.receive(0, frame('02:00:00:00:00:01', 2));
  sw.run();
  sw.attach({ kind: 'xdp', name: 'bare', insns: assemble('r0 = 4\nexit') });
  sw.receive(1, frame('02:00:00:00:00:01', 3));
  sw.run();
  const s = sw.stats();
  assert.equal(s[0].drop_no_port, 1);
  assert.equal(s[0].drop_aborted, 1, 'bpf_redirect with flags returns XDP_ABORTED');
  assert.equal(s[1].drop_no_port, 1, 'XDP_REDIRECT without a target');
  assert.deepEqual(sw.trace.map((e) => e.reason), ['no_port', 'aborted', 'no_port']);
  assert.equal(sw.pool.available(), sw.pool.count);
  stillForwards(sw);
});
}

test('truncated and oversized frames are dropped at ingress, the rest forwarded', () => {
  const sw = new Switch({ ports: 2, engine: jit, frameSize: 2048 });
  sw.attach(example('xdp_nologic'));
  assert.equal(sw.receive(0, new Uint8Array(13)), false);
  assert.equal(sw.receive(0, new Uint8Array(0)), false);
  assert.equal(sw.receive(0, new Uint8Array(2048 - 256 + 1)), false);
  const big = frame('02:00:00:00:00:01', 1, 2048 - 256);
  const small = new Uint8Array(14).fill(7);
  assert.ok(sw.receive(0, big));
  assert.ok(sw.receive(0, small));
  sw.run();
  assert.deepEqual(drain(sw)[1], [big, small]);
  const s = sw.stats()[0];
  assert.equal(s.drop_runt, 2);
  assert.equal(s.drop_oversize, 1);
  assert.equal(s.rx_packets, 2);
});

test('an exhausted pool and full rings are counted drops', () => {
  const sw = new Switch({ ports: 2, engine: jit, frames: 4, ringSize: 4 });
  sw.attach(example('xdp_nologic'));
  const results = Array.from({ length: 6 }, (_, k) => sw.receive(0, frame('02:00:00:00:00:01', k)));
  assert.deepEqual(results, [true, true, true, true, false, false]);
  assert.equal(sw.stats()[0].drop_ring_full, 2, 'RX ring of 4 slots');
  sw.run();
  // TX ring of port 1 holds 4; 4 more frames arrive and cannot leave
  for (let k = 0; k < 4; k++) sw.receive(0, frame('02:00:00:00:00:01', k));
  assert.equal(sw.stats()[0].drop_no_frame, 4, 'all 4 frames sit in the TX ring');
  assert.equal(drain(sw)[1].length, 4);
  for (let k = 0; k < 4; k++) sw.receive(0, frame('02:00:00:00:00:01', k));
  sw.step();
  assert.equal(sw.receive(0, frame('02:00:00:00:00:01', 5)), false, 'no free frame while the TX ring holds all');
  assert.equal(sw.stats()[0].drop_no_frame, 5);
  assert.equal(drain(sw)[1].length, 4);
  for (let k = 0; k < 2; k++) sw.receive(0, frame('02:00:00:00:00:01', k));
  sw.run();
  assert.equal(drain(sw)[1].length, 2);
  assert.equal(sw.pool.available(), 4);
});

test('a program that moves data outside its frame is dropped as bad_frame (trusted mode)', () => {
  // Trusted mode lets a (verifier-rejected) program write the context; the switch still checks.
  const sw = xdp('r2 = 16\n*(u32 *)(r1 + 0) = r2\nr0 = 3\nexit', { checked: false });
  sw.receive(0, frame('02:00:00:00:00:01', 1));
  sw.run();
  assert.equal(sw.stats()[0].drop_bad_frame, 1);
  assert.equal(sw.pool.available(), sw.pool.count);
});
