// Decoding a map value through corrupt BTF ends in E_BTF quickly instead of expanding without
// end: a huge array of zero-size elements (two edits of a real object's BTF) and a chain of
// structs each holding two copies of the previous one (2^40 leaves over one byte).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseObject } from '../../src/core/elf/index.js';
import { btfValue, typeName, type Btf, type BtfArray, type BtfComposite, type BtfType } from '../../src/core/btf/index.js';
import type { BpfError } from '../../src/core/errors.js';

const isBtfError = (e: unknown) => (e as BpfError).code === 'E_BTF';

test('a huge array of zero-size structs is refused, not walked', { timeout: 60_000 }, () => {
  const spec = parseObject(new Uint8Array(readFileSync('test/fixtures/c/xdp_maps.o')));
  const btf = spec.btf!;
  const flows = spec.maps.find((m) => m.name === 'flows')!;
  const value = btf.types[flows.btfValueTypeId] as BtfComposite;
  const tag = btf.types[value.members[2].type] as BtfArray;
  const key = btf.types[flows.btfKeyTypeId] as BtfComposite;
  assert.equal(tag.kind, 'array');
  // the real value decodes
  assert.equal(btfValue(btf, value.id, new Uint8Array(32)).kind, 'obj');
  key.size = 0;
  tag.type = key.id;
  tag.nelems = 0xffffffff;
  assert.throws(() => btfValue(btf, value.id, new Uint8Array(32)), (e) => isBtfError(e) && /parts/.test((e as Error).message));
});

test('a DAG of structs with exponentially many leaves is refused', { timeout: 60_000 }, () => {
  const types: BtfType[] = [
    { kind: 'void', id: 0, name: '' },
    { kind: 'int', id: 1, name: 'u8', size: 1, bits: 8, offset: 0, signed: false, char: false, bool: false },
  ];
  for (let i = 0; i < 40; i++) {
    const id = types.length;
    const inner = id === 2 ? 1 : id - 1;
    types.push({ kind: 'struct', id, name: `s${i}`, size: 1, members: [
      { name: 'a', type: inner, bitOffset: 0, bitfieldSize: 0 },
      { name: 'b', type: inner, bitOffset: 0, bitfieldSize: 0 },
    ] });
  }
  const btf: Btf = { littleEndian: true, types, strings: new Uint8Array(1) };
  // a small one is fine: 2^4 leaves
  assert.equal(btfValue(btf, 5, new Uint8Array([7])).kind, 'obj');
  assert.throws(() => btfValue(btf, types.length - 1, new Uint8Array([7])), isBtfError);
});

test('type names of prototypes sharing parameter types level after level stay bounded', { timeout: 60_000 }, () => {
  const types: BtfType[] = [{ kind: 'void', id: 0, name: '' }, { kind: 'int', id: 1, name: 'int', size: 4, bits: 32, offset: 0, signed: true, char: false, bool: false }];
  for (let i = 0; i < 30; i++) {
    const id = types.length;
    const prev = id === 2 ? 1 : id - 1; // a pointer to the previous prototype (or int)
    types.push({ kind: 'func_proto', id, name: '', returnType: 1, params: [{ name: 'a', type: prev }, { name: 'b', type: prev }] });
    types.push({ kind: 'ptr', id: id + 1, name: '', type: id });
  }
  const btf: Btf = { littleEndian: true, types, strings: new Uint8Array(1) };
  assert.equal(typeName(btf, 4), 'int (*)(int (*)(int, int) *, int (*)(int, int) *)');
  const deep = typeName(btf, types.length - 1);
  assert.ok(deep.includes('...') && deep.length < 200_000, `${deep.length} chars`);
});
