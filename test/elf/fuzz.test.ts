// Fuzz: random byte flips, overwrites and truncations of the fixtures must only ever make the
// parser throw BpfError E_ELF or E_BTF (never RangeError/TypeError, never hang).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseObject } from '../../src/core/elf/index.js';
import { isBpfError } from '../../src/core/errors.js';
import { fixture, fixtureNames } from './fixtures.js';

const objects = fixtureNames().map((n) => fixture(n));

function parsesOrFailsCleanly(bytes: Uint8Array): void {
  try {
    parseObject(bytes);
  } catch (e) {
    if (!isBpfError(e) || (e.code !== 'E_ELF' && e.code !== 'E_BTF')) {
      assert.fail(`unexpected error: ${(e as Error)?.stack ?? String(e)}`);
    }
    // parseObject wraps stray exceptions as a last resort; the fuzz must never need that net.
    const cause = (e as Error).cause;
    if (cause !== undefined && !isBpfError(cause)) assert.fail(`parser bug caught by the safety net: ${(cause as Error)?.stack ?? String(cause)}`);
  }
}

const mutation = fc.record({
  obj: fc.nat({ max: objects.length - 1 }),
  flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }),
});

test('random byte changes never escape as anything but E_ELF/E_BTF', () => {
  fc.assert(fc.property(mutation, ({ obj, flips }) => {
    const bytes = objects[obj].slice();
    for (const f of flips) bytes[f.at % bytes.length] = f.value;
    parsesOrFailsCleanly(bytes);
  }), { numRuns: 400 });
});

test('changes aimed at the headers (ELF header, section table) fail cleanly', () => {
  fc.assert(fc.property(mutation, ({ obj, flips }) => {
    const bytes = objects[obj].slice();
    const shoff = Number(new DataView(bytes.buffer).getBigUint64(40, !bytes.length || bytes[5] === 1));
    for (const [i, f] of flips.entries()) {
      const region = i % 2 === 0 ? 64 : bytes.length - shoff;
      const base = i % 2 === 0 ? 0 : shoff;
      bytes[base + (f.at % Math.max(region, 1))] = f.value;
    }
    parsesOrFailsCleanly(bytes);
  }), { numRuns: 400 });
});

test('truncations at any length fail cleanly', () => {
  fc.assert(fc.property(fc.nat({ max: objects.length - 1 }), fc.nat(), (obj, len) => {
    const bytes = objects[obj];
    parsesOrFailsCleanly(bytes.slice(0, len % bytes.length));
  }), { numRuns: 300 });
});

test('the fixtures themselves parse', () => {
  for (const o of objects) assert.ok(parseObject(o).programs.length > 0);
});
