// Crash safety of pinned maps: a child process rewrites a pinned map as fast as it can
// (every value = the round number, so a consistent snapshot has all values equal) and is
// killed with SIGKILL at varying moments; the file must always open, with one round's values,
// never older than a round the writer reported synced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mapLookupElem } from '../../src/core/runtime/commands.js';
import { openPinned } from '../../src/node/pin/index.js';

const dist = resolve('dist/src');
const WRITER = `
  import { Runtime, mapCreate, mapUpdateElem, pinMap, syncPins } from '${dist}/core/runtime/index.js';
  import { fileStore } from '${dist}/node/pin/index.js';
  const rt = new Runtime();
  const fd = mapCreate(rt, { mapType: 1, keySize: 4, valueSize: 8, maxEntries: 4096, name: 'm' });
  const k = new Uint8Array(4), v = new Uint8Array(8);
  const dv = new DataView(v.buffer), kv = new DataView(k.buffer);
  for (let round = 1; ; round++) {
    dv.setUint32(0, round, true);
    for (let i = 0; i < 4096; i++) { kv.setUint32(0, i, true); mapUpdateElem(rt, fd, k, v); }
    if (round === 1) pinMap(rt, fileStore, fd, process.env.PIN); else syncPins(rt);
    console.log('round ' + round);
  }`;

// killAfter kills the writer `ms` after it reported round `round` written (rounds, not only
// time, so that kills land in different rounds however slow a loaded machine makes the writer).
function killAfter(pin: string, round: number, ms: number): Promise<void> {
  return new Promise((done, fail) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', WRITER], { env: { ...process.env, PIN: pin }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '', out = '', armed = false;
    c.stderr.on('data', (d) => (err += d));
    c.stdout.on('data', (d) => {
      out += d;
      if (armed || !out.includes(`round ${round}\n`)) return;
      armed = true;
      setTimeout(() => c.kill('SIGKILL'), ms);
    });
    c.on('exit', (code, signal) => (signal === 'SIGKILL' ? done() : fail(new Error(`writer exited ${code}: ${err}`))));
  });
}

test('kill -9 in the middle of pinned-map writes never leaves a map file that cannot be opened', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-kill-'));
  const pin = join(dir, 'm');
  const seen = new Set<number>();
  for (const [round, ms] of [[1, 0], [1, 3], [1, 17], [2, 40], [3, 0], [3, 75], [4, 120], [5, 160]]) {
    await killAfter(pin, round, ms);
    const p = openPinned(pin);
    assert.equal(p.info.maxEntries, 4096);
    const first = new DataView(mapLookupElem(p.rt, p.fd, new Uint8Array(4)).buffer).getUint32(0, true);
    for (let i = 0; i < 4096; i += 1) {
      const v = mapLookupElem(p.rt, p.fd, new Uint8Array(new Uint32Array([i]).buffer));
      assert.equal(new DataView(v.buffer).getUint32(0, true), first, `key ${i}: snapshot mixes rounds`);
    }
    // a round the writer reported was synced (fsync, rename, directory fsync): it is never lost
    assert.ok(first >= round, `round ${round} was reported written, the pin holds round ${first}`);
    seen.add(first);
  }
  assert.ok(seen.size > 1, `kills landed in different rounds (${[...seen]})`);
  // a temporary file may be left behind by a killed writer; it is never mistaken for a pin
  assert.ok(readdirSync(dir).every((f) => f === 'm' || f.startsWith('.tsbpf-tmp-')));
});
