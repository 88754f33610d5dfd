// Mutated objects that still parse must load or fail with a BpfError, and loaded programs
// must run or fail with a BpfError: never a raw TypeError/RangeError from the loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError } from '../../src/core/errors.js';
import { parseObject } from '../../src/core/elf/index.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { loadObject } from '../../src/core/runtime/index.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { fixtureObjects, ipv4Frame, readObject } from './util.js';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

function attempt<T>(what: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (isBpfError(e)) return undefined;
    assert.fail(`${what}: ${(e as Error)?.stack ?? String(e)}`);
  }
}

test('loader fuzz: mutated fixtures load and run or fail with BpfError', (t) => {
  const rand = rng(0x5eed);
  const objects = fixtureObjects().map(readObject);
  let parsed = 0, loaded = 0;
  for (let i = 0; i < 600; i++) {
    const bytes = objects[i % objects.length].slice();
    const flips = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < flips; k++) bytes[Math.floor(rand() * bytes.length)] ^= 1 << Math.floor(rand() * 8);
    const spec = attempt(`parse #${i}`, () => parseObject(bytes));
    if (!spec) continue;
    parsed++;
    for (const p of spec.programs) {
      const coll = attempt(`load #${i} ${p.name}`, () => loadObject(new Runtime(), spec, { programs: [p.name], engine: interpreter }));
      if (!coll) continue;
      loaded++;
      attempt(`run #${i} ${p.name}`, () => coll.programs[p.name]?.run({ data: ipv4Frame(64), budget: 10000 }));
    }
  }
  t.diagnostic(`parsed ${parsed}, loaded ${loaded}`);
  assert.ok(parsed > 50 && loaded > 50, `parsed ${parsed}, loaded ${loaded}`);
});
