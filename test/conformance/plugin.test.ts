/**
 * `tsbpf conformance-plugin`, driven the way the public eBPF conformance runner drives a plugin:
 * program bytes as hex on stdin, the data as a hex argument, r0 printed as hex on stdout (or an
 * error with a non-zero status). Runs a sample of the corpus through the real CLI process for
 * every available engine, so the sample stays small (one process per case).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encode, toHex } from '../../src/core/isa/instruction.js';
import { corpusRoot, loadCorpus, type CorpusCase } from './corpus.js';
import { ENGINES } from './engines.js';
import { caseProgram, loadAssembler } from './run-case.js';

/** SAMPLE_STRIDE: every n-th eligible case runs through the CLI. */
const SAMPLE_STRIDE = 7;

const cli = join(corpusRoot(), '..', '..', 'bin', 'tsbpf');
const assemble = await loadAssembler();

/** The plugin has no corpus helper and uses the default budget, so those cases are left out. */
function eligible(c: CorpusCase): boolean {
  return c.budget === undefined && !/\bcall\s+999\b/.test(c.asm ?? '');
}

const sample = loadCorpus().filter(eligible).filter((_, i) => i % SAMPLE_STRIDE === 0);

function runPlugin(engine: string, progHex: string, memHex: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'conformance-plugin', '--engine', engine, memHex], {
    input: progHex,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the sample covers results and errors', () => {
  assert.ok(sample.length >= 40, `sample of ${sample.length}`);
  assert.ok(sample.some((c) => c.error) && sample.some((c) => c.result !== undefined));
});

for (const entry of ENGINES) {
  describe(`conformance-plugin --engine ${entry.name}`, () => {
    for (const c of sample) {
      test(c.name, (t) => {
        if (!entry.engine) return t.skip(entry.missing);
        if (!existsSync(cli)) return t.skip(`no CLI at ${cli}`);
        if (typeof assemble === 'string' && !c.raw) return t.skip(assemble);
        const progHex = toHex(encode(caseProgram(c, assemble)));
        const r = runPlugin(entry.name, progHex, toHex(c.mem));
        if (c.error) {
          assert.notEqual(r.status, 0, `${c.name}: expected ${c.error.code}, got stdout ${r.stdout}`);
          assert.match(r.stderr, new RegExp(`\\[${c.error.code}\\]`), `${c.name}: stderr`);
          return;
        }
        assert.equal(r.status, 0, `${c.name}: ${r.stderr}`);
        assert.equal(BigInt('0x' + r.stdout.trim()), c.result, `${c.name}: r0 printed ${r.stdout.trim()}`);
      });
    }
  });
}
