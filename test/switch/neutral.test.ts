/**
 * The switch's dataplane (src/switch/dataplane) stays platform-neutral like the core: no Node
 * modules, no Node globals, so it can run in a browser or a worker without change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

test('src/switch/dataplane imports no Node modules and uses no Node globals', () => {
  const dir = join('src', 'switch', 'dataplane');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(/from\s*['"]([^'"]+)['"]/g)) {
      assert.ok(!m[1].startsWith('node:') && m[1].startsWith('.'), `${f} imports ${m[1]}`);
      assert.ok(!/\/(node|cli|ports)\//.test(m[1]), `${f} imports ${m[1]}`);
    }
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    assert.ok(!/\bprocess\.|\bBuffer\.|\brequire\(/.test(code), `${f} uses a Node global`);
  }
});
