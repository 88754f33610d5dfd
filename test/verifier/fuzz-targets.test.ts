// Small samples of the verifier's fuzz targets (the long runs are `npm run fuzz -- --target
// verifier-kernel|verifier-soundness`): no seed may be a mismatch, and most seeds must give a
// verdict both ways / a run (not all rejected).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzTarget } from '../gen/targets.js';
import { decode, fromHex } from '../../src/core/isa/instruction.js';
import { checkKernelProgram, checkSoundProgram } from './fuzz-targets.js';
import { FUZZ_REGRESSIONS } from './fuzz-targets-regressions.js';
import { kernelReady } from './kernel-oracle.js';

const N = Number(process.env.VERIFIER_FUZZ_N ?? 150);

for (const name of ['verifier-kernel', 'verifier-soundness']) {
  test(`fuzz target ${name}: ${N} seeds, no mismatch`, (t) => {
    const target = fuzzTarget(name);
    assert.ok(target, `${name} is registered`);
    const avail = target.available();
    if (!avail.ok) return t.skip(avail.reason);
    const check = target.prepare();
    const counts = { match: 0, mismatch: 0, rejected: 0 };
    const bad: string[] = [];
    for (let seed = 1; seed <= N; seed++) {
      const r = check(seed, false);
      counts[r.first.status]++;
      if (r.first.status === 'mismatch') bad.push(`seed ${seed}: ${r.first.detail}`);
    }
    t.diagnostic(JSON.stringify(counts));
    assert.deepEqual(bad.slice(0, 2), []);
    assert.ok(counts.match >= N / 3, `enough programs compared or run: ${JSON.stringify(counts)}`);
  });
}

// Programs the long runs found (now fixed), kept as programs (fuzz-targets-regressions.ts):
// tsbpf and the kernel agree on the verifier-kernel ones, and the verifier-soundness ones do not
// fault in checked mode when tsbpf accepts them.
for (const r of FUZZ_REGRESSIONS) {
  test(`fuzz target ${r.target}: regression seed ${r.seed} (${r.why})`, (t) => {
    const prog = decode(fromHex(r.hex));
    if (r.target === 'verifier-soundness') {
      const res = checkSoundProgram(prog, r.progType, new Uint8Array(160));
      assert.notEqual(res.status, 'mismatch', res.detail);
      return;
    }
    const avail = kernelReady();
    if (!avail.ok) return t.skip(avail.reason);
    const res = checkKernelProgram(prog, r.progType);
    assert.equal(res.status, 'match', res.detail);
  });
}
