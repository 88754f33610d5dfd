// The documented library example runs and prints what docs/interpreter.md says it does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('examples/lib/run-program.mjs: both engines and the debugger agree', () => {
  const r = spawnSync(process.execPath, ['examples/lib/run-program.mjs'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^interp: r0 = 10$/m);
  assert.match(r.stdout, /^jit: r0 = 10$/m);
  const stops = r.stdout.match(/^pc 2: .* r0=(\d+) r3=(\d+)$/gm) ?? [];
  assert.equal(stops.length, 5);
  assert.match(r.stdout, /^exited: r0 = 10$/m);
});

test('tsbpf demo runs examples/fnv1a.s in both engines with the FNV-1a of its data', () => {
  const r = spawnSync(process.execPath, ['bin/tsbpf', 'demo'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode('hello, eBPF')) h = Math.imul(h ^ b, 16777619) >>> 0;
  for (const engine of ['jit', 'interp']) assert.match(r.stdout, new RegExp(`^  ${engine}\\s+r0 = 0x${h.toString(16)} `, 'm'));
});
