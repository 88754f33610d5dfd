/**
 * The startup cache of `tsbpf pcap`: the module bundler on small module graphs (re-exports,
 * star exports shadowed by local ones, aliases, namespace imports, a cycle over functions,
 * dynamic imports, refused forms), staleness, and the real command run three times from a
 * cold cache (build, code cache, hit) with output identical to a run without the cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StartupCache } from '../../src/node/pcap/startup-cache.js';
import { writePcap, writePcapng } from '../../src/core/pcap/index.js';
import { makeCorpus } from './packets.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** graph writes modules into a fresh directory (an ES module package) and returns it. */
function graph(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bundle-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const MODULES = {
  'a.js': `export function f(x) { return x + 1; }\nexport const C = 1, D = 'd';\nexport class K { v() { return C; } }\nexport const G = (x) => x * 2;\n`,
  'b.js': `export * from './a.js';\nexport const C = 2;\nexport { f as g } from './a.js';\nimport * as ns from './a.js';\nexport const viaNs = ns.G(21);\n`,
  'c.js': `import { h } from './d.js';\nexport function k(n) { return n <= 0 ? 'c' : h(n - 1); }\nexport const fromD = h(3);\n`,
  'd.js': `import { k } from './c.js';\nexport function h(n) { return n <= 0 ? 'd' : k(n - 1); }\n`,
  'e.js': `import { readFileSync as rf } from 'node:fs';\nimport './side.js';\nexport const rfType = typeof rf;\nconst local = 5;\nexport { local as five, local };\nexport async function later() { return (await import('./a.js')).C; }\n`,
  'side.js': `globalThis.__bundleSide = (globalThis.__bundleSide ?? 0) + 1;\n`,
  'main.js': `export * from './b.js';\nexport { k, fromD } from './c.js';\nexport * from './e.js';\n`,
};

test('the bundle of a module graph exports what the real modules export', async () => {
  const dir = graph(MODULES);
  const main = join(dir, 'main.js');
  const cache = new StartupCache('t', [main], join(dir, 'cache'));
  const real = await import(pathToFileURL(main).href) as Record<string, unknown>;
  assert.equal(cache.load(), undefined, 'no cache yet');
  await cache.build();
  const m = JSON.parse(readFileSync(cache.manifestPath, 'utf8'));
  assert.equal(m.refused, undefined, m.refused);
  const hit = cache.load();
  assert.ok(hit, 'bundle loads');
  const got = hit.exports[0] as Record<string, (...a: unknown[]) => unknown>;
  assert.notEqual(got, real, 'a separate copy');
  assert.deepEqual(Object.keys(got).sort(), Object.keys(real).sort());
  assert.equal(got.C, 2, 'a local export shadows a star export');
  assert.equal((got.g as (x: number) => number)(1), 2);
  assert.equal(got.viaNs, 42);
  assert.equal(got.D, 'd');
  assert.equal(new (got.K as unknown as new () => { v(): number })().v(), 1);
  assert.equal(got.fromD, (real as Record<string, unknown>).fromD, 'the cycle over functions evaluates as in ES modules');
  assert.equal(got.k(4), (real.k as (n: number) => string)(4));
  assert.equal(got.rfType, 'function');
  assert.equal(got.five, 5);
  assert.equal(await got.later(), 1, 'dynamic imports reach the real modules');
  hit.done();
  assert.ok(existsSync(cache.codePath), 'code cache written after the first bundled run');
  const again = cache.load();
  assert.ok(again);
  again.done();
});

test('stale bundles are not used; forms the bundler cannot model are refused, not used', async () => {
  const dir = graph(MODULES);
  const main = join(dir, 'main.js');
  const cache = new StartupCache('t', [main], join(dir, 'cache'));
  await import(pathToFileURL(main).href);
  await cache.build();
  assert.ok(cache.load());
  utimesSync(join(dir, 'd.js'), new Date(), new Date(Date.now() + 5000));
  assert.ok(cache.load(), 'a file rewritten with the same contents keeps the bundle');
  assert.ok(JSON.parse(readFileSync(cache.manifestPath, 'utf8')).files.some((f: [string, number]) => f[0].endsWith('d.js') && f[1] > Date.now()),
    'and its new time is recorded');
  writeFileSync(join(dir, 'd.js'), readFileSync(join(dir, 'd.js'), 'utf8') + '// changed\n');
  assert.equal(cache.load(), undefined, 'a changed file makes the bundle stale');
  await cache.build();
  assert.ok(cache.load(), 'rebuilt');

  for (const [name, files] of Object.entries<Record<string, string>>({
    default: { 'm.js': 'export default 1;\nexport const x = 1;\n' },
    let: { 'm.js': 'export let x = 1;\nexport function bump() { x++; }\n' },
    meta: { 'm.js': 'export const u = import.meta.url;\n' },
    cycle: { 'm.js': `import { y } from './n.js';\nexport const x = 1;\nexport function get() { return y; }\n`, 'n.js': `import { x } from './m.js';\nexport const y = 2;\nexport function getX() { return x; }\n` },
  })) {
    const d = graph(files);
    const c = new StartupCache('t', [join(d, 'm.js')], join(d, 'cache'));
    await import(pathToFileURL(join(d, 'm.js')).href);
    await c.build();
    const head = JSON.parse(readFileSync(c.manifestPath, 'utf8'));
    assert.match(head.refused ?? '', /cannot be bundled/, name);
    assert.equal(c.load(), undefined, name);
  }
});

test('tsbpf pcap filter: cold cache, code cache and cached runs give the output of an uncached run', (t) => {
  const bin = join(ROOT, 'bin', 'tsbpf');
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) return t.skip('CLI not built');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cache-cli-'));
  const corpus = makeCorpus(5, 600);
  writeFileSync(join(dir, 'in.pcap'), writePcap(corpus));
  writeFileSync(join(dir, 'in.pcapng'), writePcapng(corpus));
  const cacheDir = join(dir, 'cache');
  mkdirSync(cacheDir);
  const run = (env: Record<string, string>, args: string[]) => {
    const r = spawnSync(process.execPath, [bin, 'pcap', 'filter', ...args], { env: { ...process.env, ...env }, encoding: 'latin1' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  // the first case runs three times: cache built, code cache written, both used
  const cases: [string, string, string[], number][] = [['tcp port 80', 'in.pcap', ['-w', 'OUT'], 3],
    ['tcp[tcpflags] & tcp-syn != 0', 'in.pcap', ['--count'], 1], ['vlan and udp', 'in.pcapng', [], 1]];
  for (const [expr, input, mode, runs] of cases) {
    const args = (out: string) => [expr, join(dir, input), ...mode.map((a) => (a === 'OUT' ? join(dir, out) : a))];
    const plain = run({ TSBPF_NO_CACHE: '1' }, args('plain.pcap'));
    assert.equal(plain.status, 0, plain.stderr);
    for (let k = 0; k < runs; k++) {
      const cached = run({ TSBPF_CACHE_DIR: cacheDir }, args('cached.pcap'));
      assert.deepEqual(cached, plain, `${expr} ${input} ${mode.join(' ')} run ${k}`);
      if (mode[0] === '-w') assert.deepEqual(readFileSync(join(dir, 'cached.pcap')), readFileSync(join(dir, 'plain.pcap')));
    }
  }
  const head = JSON.parse(readFileSync(join(cacheDir, 'pcap.json'), 'utf8'));
  assert.equal(head.refused, undefined, head.refused);
  assert.ok(head.files.length > 20, 'the command graph is bundled');
  assert.ok(existsSync(join(cacheDir, 'pcap.v8')), 'code cache written');
  const bad = run({ TSBPF_CACHE_DIR: cacheDir }, ['tcp port', join(dir, 'in.pcap')]);
  const badPlain = run({ TSBPF_NO_CACHE: '1' }, ['tcp port', join(dir, 'in.pcap')]);
  assert.deepEqual(bad, badPlain, 'errors are the same');
  assert.equal(bad.status, 2);
});
