/**
 * createMap finds a struct bpf_spin_lock in a map's value through the object's BTF, whether it
 * is handed the raw `.BTF` only or also the already parsed types (what loadObject passes, so
 * the blob is not parsed once per map), and keeps the raw BTF with the map either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { createMap } from '../../src/core/runtime/object-maps.js';
import { mapMeta } from '../../src/core/runtime/pin.js';
import { spinLockOff } from '../../src/core/maps/spin-lock.js';
import { parseBtf } from '../../src/core/btf/index.js';
import type { MapSpec } from '../../src/core/elf/spec.js';
import { lockValueBtf } from '../maps/btf-blob.js';

const spec = (valueSize: number, btfValueTypeId: number): MapSpec => ({
  name: 'locked', section: '.maps', type: 'hash', typeId: 1, keySize: 4, valueSize, maxEntries: 8, flags: 0, pinning: 'none',
  numaNode: 0, mapExtra: 0n, btfKeyTypeId: 0, btfValueTypeId, innerMap: null, contents: [], initialValue: null,
});

test('the spin lock of a map value is found from raw or parsed BTF', () => {
  const { blob, value, noLock } = lockValueBtf();
  for (const parsed of [null, parseBtf(blob)]) {
    const rt = new Runtime();
    const fd = createMap(rt, spec(24, value), blob, parsed);
    assert.equal(spinLockOff(rt.space, rt.map(fd).hdr), 8, `lock at 8 (${parsed ? 'parsed' : 'raw'} BTF)`);
    assert.equal(mapMeta(rt, fd).btf, blob, 'the raw BTF stays with the map');
    const plain = createMap(rt, spec(16, noLock), blob, parsed);
    assert.equal(spinLockOff(rt.space, rt.map(plain).hdr), -1);
  }
});
