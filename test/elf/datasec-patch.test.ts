// openObject keeps the object's .BTF with the DATASEC sizes and variable offsets the parser
// filled in (clang leaves them zero), as libbpf hands the kernel fixed BTF; pinned global data
// maps then print their variables at the right offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openObject } from '../../src/core/runtime/index.js';
import { findSection, parseElf } from '../../src/core/elf/index.js';
import { parseBtf, patchDatasecs } from '../../src/core/btf/index.js';

test('kept BTF carries DATASEC sizes and offsets; the raw section does not', () => {
  const bytes = new Uint8Array(readFileSync('test/loader/fixtures/btf_values.o'));
  const o = openObject(bytes);
  const kept = parseBtf(o.btfBytes!);
  const raw = parseBtf(findSection(parseElf(bytes), '.BTF')!.data);
  const ds = (b: typeof kept) => b.types.find((t) => t.kind === 'datasec' && t.name === '.data') as { size: number; vars: { offset: number }[] };
  assert.deepEqual(ds(raw).vars.map((v) => v.offset), [0, 0]);
  assert.equal(ds(raw).size, 0);
  assert.deepEqual(ds(kept).vars.map((v) => v.offset), [0, 8]);
  assert.equal(ds(kept).size, 14);
  // everything else is byte-identical
  assert.deepEqual(kept.types.filter((t) => t.kind !== 'datasec'), raw.types.filter((t) => t.kind !== 'datasec'));
});

test('patchDatasecs refuses BTF that does not match the blob', () => {
  const bytes = new Uint8Array(readFileSync('test/loader/fixtures/btf_values.o'));
  const sec = findSection(parseElf(bytes), '.BTF')!.data;
  const other = parseBtf(findSection(parseElf(new Uint8Array(readFileSync('test/fixtures/c/xdp_maps.o'))), '.BTF')!.data);
  assert.throws(() => patchDatasecs(sec, other), /E_BTF|does not match/);
});
