// The committed objects match their sources: where clang-14 exists, each directory's build.sh
// runs on a copy of its sources in a temporary directory (so the flags are exactly the
// script's), and every rebuilt object must parse to the same programs (names, sections,
// types, instructions, relocations) and maps as the committed one. DWARF and BTF line info
// may differ (source paths); code and maps may not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseObject, type ObjectSpec } from '../../src/core/elf/index.js';

/** DIRS hold C sources, a build.sh and the objects it produced. */
const DIRS = ['test/fixtures/c', 'test/loader/fixtures', 'examples/switch', 'bench/programs', 'bench/loader'];

function clangMissing(): string | null {
  const r = spawnSync('clang-14', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'clang-14 is not installed (apt-get install clang-14 libbpf-dev)';
  const h = spawnSync('sh', ['-c', 'test -f /usr/include/bpf/bpf_helpers.h'], { encoding: 'utf8' });
  return h.status === 0 ? null : 'libbpf headers are missing (apt-get install libbpf-dev)';
}

// runBuild copies the sources and build.sh of `dir` to a temporary directory and runs the script there.
function runBuild(dir: string): Promise<{ tmp: string; status: number | null; stderr: string }> {
  const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-rebuild-'));
  for (const f of readdirSync(dir)) if (/\.(c|h|sh)$/.test(f)) copyFileSync(join(dir, f), join(tmp, f));
  return new Promise((resolve) => {
    const p = spawn('bash', [join(tmp, 'build.sh')], { cwd: tmp, env: { ...process.env, CLANG: 'clang-14' } });
    let stderr = '';
    p.stderr.on('data', (d) => { stderr += String(d); });
    p.on('close', (status) => resolve({ tmp, status, stderr }));
  });
}

// essentials keeps what decides behaviour: program code and relocations, map definitions.
function essentials(spec: ObjectSpec): unknown {
  return {
    license: spec.license,
    programs: spec.programs.map((p) => ({ name: p.name, section: p.sectionName, type: p.type, insns: p.insns, relocations: p.relocations, subprograms: p.subprograms, coreRelos: p.coreRelos })),
    maps: spec.maps.map((m) => ({ ...m, mapExtra: String(m.mapExtra), innerMap: m.innerMap ? { ...m.innerMap, mapExtra: String(m.innerMap.mapExtra) } : null })),
  };
}

const missing = clangMissing();

test('committed BPF objects are what their sources and build.sh produce', { skip: missing ?? false, timeout: 600_000 }, async (t) => {
  const builds = await Promise.all(DIRS.map(async (dir) => ({ dir, ...(await runBuild(dir)) })));
  try {
    let compared = 0;
    for (const b of builds) {
      assert.equal(b.status, 0, `${b.dir}/build.sh failed: ${b.stderr}`);
      const committed = readdirSync(b.dir).filter((f) => f.endsWith('.o')).sort();
      const rebuilt = readdirSync(b.tmp).filter((f) => f.endsWith('.o')).sort();
      assert.deepEqual(rebuilt, committed, `${b.dir}: build.sh produces exactly the committed objects`);
      for (const f of committed) {
        const want = essentials(parseObject(new Uint8Array(readFileSync(join(b.dir, f)))));
        const got = essentials(parseObject(new Uint8Array(readFileSync(join(b.tmp, f)))));
        assert.deepEqual(got, want, `${b.dir}/${f} differs from a rebuild of its source`);
        compared++;
      }
    }
    t.diagnostic(`${compared} objects rebuilt and compared`);
    assert.ok(compared >= 25, `only ${compared} objects compared`);
  } finally {
    for (const b of builds) rmSync(b.tmp, { recursive: true, force: true });
  }
});

test('the comparison sees a changed instruction', () => {
  // guards the test above against comparing nothing: one immediate changed must differ
  const bytes = new Uint8Array(readFileSync('test/fixtures/c/xdp_maps.o'));
  const spec = parseObject(bytes);
  const changed = parseObject(bytes);
  changed.programs[0].insns[0] = { ...changed.programs[0].insns[0], imm: changed.programs[0].insns[0].imm + 1 };
  assert.deepEqual(essentials(parseObject(bytes)), essentials(spec));
  assert.notDeepEqual(essentials(changed), essentials(spec));
});
