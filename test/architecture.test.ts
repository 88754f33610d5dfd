// The core must stay platform-neutral (it runs in a browser): nothing under src/core may import a
// Node module or use Node globals. Dependencies flow one way: core never imports node/, cli/ or switch/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const NODE_BUILTINS = new Set(['fs', 'path', 'os', 'child_process', 'worker_threads', 'net', 'dgram', 'crypto',
  'util', 'url', 'events', 'stream', 'buffer', 'process', 'module', 'perf_hooks', 'zlib', 'http', 'https', 'tty']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(text: string): string[] {
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)]
    .map((m) => m[1] ?? m[2]);
}

test('core imports no Node modules and uses no Node globals', () => {
  const files = sources('src/core');
  assert.ok(files.length > 5, 'core sources found');
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const spec of imports(text)) {
      assert.ok(!spec.startsWith('node:'), `${f} imports ${spec}`);
      assert.ok(!NODE_BUILTINS.has(spec.split('/')[0]), `${f} imports Node module ${spec}`);
      assert.ok(!/\/(node|cli|switch)\//.test(spec) || !spec.startsWith('..'), `${f} imports outside core: ${spec}`);
    }
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    assert.ok(!/\bprocess\.|\bBuffer\.|\brequire\(/.test(code), `${f} uses a Node global`);
  }
});

test('the import scanner sees node: imports (self-check)', () => {
  assert.deepEqual(imports(`import { x } from 'node:fs';\nexport * from "./a.js";`), ['node:fs', './a.js']);
});
