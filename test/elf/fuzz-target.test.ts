// The `elf` fuzz target in CI: a small sample of seeds must pass, the regressions it found
// stay fixed, and the checker itself flags what it must (stray exceptions, errors naming no
// place, slow parses) and shrinks failures to the edits that matter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfError } from '../../src/core/errors.js';
import { parseObject } from '../../src/core/elf/index.js';
import { newFuzzState, runFuzz } from '../gen/fuzz-loop.js';
import { elfFuzzTarget, elfSeedChecker, checkBytes, judge, loadCorpus, parseAndUse } from './fuzz-target.js';
import { applyEdits, mutationFor, type Edit } from './mutate.js';

const corpus = loadCorpus();
const obj = (name: string): Uint8Array => corpus.find((o) => o.name.endsWith(name))!.bytes;

test('elf fuzz target: a sample of 1500 seeds gives only typed errors naming the place', (t) => {
  const state = newFuzzState('elf', 1);
  const bad: string[] = [];
  runFuzz(elfFuzzTarget(), state, 1500, { shrink: true, onReport: (r) => bad.push(`seed ${r.seed}: ${(r.shrunk ?? r.first).detail}`) });
  t.diagnostic(`corpus ${corpus.length} objects; ${state.counts.match} passed`);
  assert.deepEqual(bad, []);
  assert.equal(state.counts.programs, 1500);
});

test('elf fuzz target: mutations are deterministic per seed and vary across seeds', () => {
  assert.deepEqual(mutationFor(77, corpus), mutationFor(77, corpus));
  const kinds = new Set(Array.from({ length: 300 }, (_, i) => mutationFor(i, corpus).strategies).flat());
  for (const k of ['bytes', 'ehdr', 'shdr', 'shdr-alias', 'truncate', 'btf', 'btf-ref', 'btf.ext', 'symtab', 'reloc', 'code']) assert.ok(kinds.has(k as never), k);
  // a good share of the mutated objects still parse, so the deep paths (linking, maps, BTF use) are reached
  let parsed = 0;
  for (let s = 0; s < 300; s++) {
    const m = mutationFor(s, corpus);
    try {
      parseObject(applyEdits(corpus.find((o) => o.name === m.object)!.bytes, m.edits));
      parsed++;
    } catch { /* judged by the checker tests */ }
  }
  assert.ok(parsed > 60 && parsed < 280, `parsed ${parsed} of 300`);
});

test('elf fuzz regressions: lddw cut by a function end, negative member offsets in map values, self-nested map definitions, huge .bss', () => {
  // st_size of a .text function shrunk so the function ends between the halves of an lddw
  const cut: Edit[] = [{ at: 4056, bytes: [0x40, 0, 0, 0, 0, 0, 0, 0] }];
  const tail = applyEdits(obj('test/loader/fixtures/tail_calls.o'), cut);
  assert.equal(checkBytes(tail), null);
  assert.throws(() => parseObject(tail), (e: BpfError) => e.code === 'E_ELF' && /cut by the end of function/.test(e.message) && e.context.symbol !== undefined);
  // high byte of a struct member's bit offset set: the decoded byte offset must not go negative
  const neg: Edit[] = [{ at: 2771, bytes: [0xc9] }];
  assert.equal(checkBytes(applyEdits(obj('test/fixtures/c/xdp_maps.o'), neg)), null);
  // a prog array's __array(values) retargeted at its own definition: recursion, now refused as libbpf does
  const self = applyEdits(obj('test/fixtures/c/prog_array.o'), [{ at: 2540, bytes: [0x1b, 0, 0, 0] }]);
  assert.equal(checkBytes(self), null);
  assert.throws(() => parseObject(self), (e: BpfError) => e.code === 'E_ELF' && /multi-level maps of maps/.test(e.message));
  // .bss sh_size set to 2^47: refused before allocating
  const bss = applyEdits(obj('test/fixtures/c/global_data.o'), [{ at: 9293, bytes: [0x80] }]);
  assert.equal(checkBytes(bss), null);
  assert.throws(() => parseObject(bss), (e: BpfError) => e.code === 'E_ELF' && e.context.section === '.bss');
});

test('elf fuzz checker flags stray exceptions, unplaced errors and slow parses', () => {
  const bytes = obj('xdp_maps.o');
  assert.equal(checkBytes(bytes), null);
  assert.match(checkBytes(bytes, () => { throw new TypeError('x is undefined'); }) ?? '', /not a BpfError/);
  assert.match(checkBytes(bytes, () => { throw new BpfError('E_ELF', 'bad'); }) ?? '', /names no place/);
  assert.match(checkBytes(bytes, () => { throw new BpfError('E_MEM', 'at offset 3'); }) ?? '', /unexpected code E_MEM/);
  assert.equal(checkBytes(bytes, () => { throw new BpfError('E_BTF', 'x', { section: '.BTF' }); }), null);
  assert.match(judge(undefined, 1500) ?? '', /took 1500 ms/);
  assert.match(judge(new BpfError('E_ELF', 'malformed object: y', {}, { cause: new RangeError('y') }), 1) ?? '', /safety net/);
  assert.equal(judge(undefined, 3), null);
  assert.ok(parseAndUse(bytes).programs.length > 0);
});

test('elf fuzz checker shrinks a failure to the edit that causes it', () => {
  // a parser that fails (untyped) only when one chosen byte was changed: shrinking keeps that edit alone
  let seed = -1, at = -1;
  let base: Uint8Array = new Uint8Array(0);
  for (let s = 0; s < 5000 && seed < 0; s++) {
    const m = mutationFor(s, corpus);
    const writes = m.edits.filter((e): e is { at: number; bytes: number[] } => 'at' in e);
    if (m.edits.length < 2 || writes.length === 0 || m.edits.some((e) => 'truncate' in e)) continue;
    base = corpus.find((o) => o.name === m.object)!.bytes;
    const w = writes.find((e) => e.bytes[0] !== base[e.at] && m.edits.filter((x) => 'at' in x && x.at === e.at).length === 1);
    if (w) [seed, at] = [s, w.at];
  }
  assert.ok(seed >= 0, 'a seed with several edits exists');
  const picky = (b: Uint8Array): unknown => {
    if (b[at] !== base[at]) throw new Error('boom');
    return parseAndUse(b);
  };
  const r = elfSeedChecker(corpus, picky)(seed, true);
  assert.equal(r.first.status, 'mismatch');
  assert.match(r.first.detail, /;/);
  assert.match(r.shrunk!.detail, new RegExp(`@${at}: [0-9a-f ]+\\n`));
  assert.doesNotMatch(r.shrunk!.detail.split('\n')[0], /;/);
});
