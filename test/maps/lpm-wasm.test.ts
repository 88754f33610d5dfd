/**
 * The LPM trie in map memory (lpm.ts) and its Wasm lookup (wasm-lpm.ts) against a plain
 * model: random updates and deletes of prefixes that share many leading bits (so the trie
 * branches, gains and loses intermediate nodes), and after each step lookups of random keys
 * must give the model's longest match in TypeScript and in the Wasm map runtime, and every
 * stored prefix must be found exactly; deletes in Wasm leave the TypeScript ones' memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { mapCreate } from '../../src/core/runtime/commands.js';
import { deleteElem, lookupElem, updateElem } from '../../src/core/maps/ops.js';
import { mapRuntimeInstance } from '../../src/core/maps/wasm.js';
import { BPF_F_NO_PREALLOC, BPF_MAP_TYPE_LPM_TRIE, ENOENT, ENOSPC } from '../../src/core/maps/layout.js';
import { H_LPM_NODES, H_LPM_NSTRIDE, H_LPM_ROOT, LN_PLEN } from '../../src/core/maps/lpm.js';

/**
 * trieShape walks the trie: element nodes reached, intermediate nodes reached; asserts that
 * every intermediate node has two children and prefix lengths grow along every path.
 */
function trieShape(rt: Runtime, hdr: number, max: number): { elems: number; ims: number } {
  const dv = rt.space.dv, nodes = dv.getUint32(hdr + H_LPM_NODES, true);
  let elems = 0, ims = 0;
  const walk = (v: number, minLen: number): void => {
    if (v === 0) return;
    const rec = nodes + (v - 1) * dv.getUint32(hdr + H_LPM_NSTRIDE, true), pl = dv.getUint32(rec + LN_PLEN, true);
    assert.ok(pl >= minLen, 'prefix lengths grow along a path');
    const c0 = dv.getUint32(rec, true), c1 = dv.getUint32(rec + 4, true);
    if (v - 1 < max) elems++;
    else {
      ims++;
      assert.ok(c0 !== 0 && c1 !== 0, 'an intermediate node has two children');
    }
    walk(c0, pl + 1);
    walk(c1, pl + 1);
  };
  walk(dv.getUint32(hdr + H_LPM_ROOT, true), 0);
  return { elems, ims };
}

/** bits of a prefix: data bytes drawn from a few patterns so prefixes nest and branch */
const dataArb = (ds: number): fc.Arbitrary<number[]> => fc.array(fc.constantFrom(0x00, 0x80, 0xc0, 0xff, 0x0f, 0x10), { minLength: ds, maxLength: ds });

type Step = { kind: 'update' | 'delete' | 'lookup'; len: number; data: number[] };

const stepArb = (ds: number): fc.Arbitrary<Step> => fc.record({
  kind: fc.constantFrom('update', 'update', 'delete', 'lookup') as fc.Arbitrary<Step['kind']>,
  len: fc.oneof(fc.integer({ min: 0, max: ds * 8 }), fc.constantFrom(0, 1, 8, ds * 8, ds * 8 + 1)),
  data: dataArb(ds),
});

function bitsOf(data: number[], len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += (data[i >> 3] >> (7 - (i & 7))) & 1;
  return s;
}

for (const ds of [4, 16]) {
  test(`LPM trie (${ds}-byte data): TypeScript and Wasm lookups give the model's longest match after every change`, () => {
    fc.assert(fc.property(fc.array(stepArb(ds), { minLength: 10, maxLength: 120 }), (steps) => {
      const rt = new Runtime({ initialBytes: 1 << 20 });
      const max = 12;
      const fd = mapCreate(rt, { mapType: BPF_MAP_TYPE_LPM_TRIE, keySize: 4 + ds, valueSize: 8, maxEntries: max, mapFlags: BPF_F_NO_PREALLOC });
      const hdr = rt.map(fd).hdr;
      const w = mapRuntimeInstance(rt, rt.context(0), false) as unknown as Record<string, (...x: unknown[]) => bigint>;
      const key = rt.space.alloc(64, 8), val = key + 32;
      const model = new Map<string, number>(); // prefix bits -> value
      const put = (len: number, data: number[]): void => {
        rt.space.dv.setUint32(key, len, true);
        rt.space.u8.set(data, key + 4);
      };
      steps.forEach((st, n) => {
        put(st.len, st.data);
        const valid = st.len <= ds * 8;
        const bits = bitsOf(st.data, Math.min(st.len, ds * 8));
        if (st.kind === 'update') {
          rt.space.dv.setUint32(val, n, true);
          const r = updateElem(rt.space, hdr, key, val, 0, 0);
          const want = !valid ? -22 : !model.has(bits) && model.size >= max ? -ENOSPC : 0;
          assert.equal(r, want, `step ${n}`);
          if (r === 0) model.set(bits, n);
        } else if (st.kind === 'delete') {
          const r = deleteElem(rt.space, hdr, key);
          assert.equal(r, !valid ? -22 : model.has(bits) ? 0 : -ENOENT, `step ${n}`);
          if (r === 0) model.delete(bits);
        }
        // the model's answer for the key of this step
        let best = -1;
        if (valid) {
          let bestLen = -1;
          for (const [p, v] of model) if (p.length <= st.len && bits.startsWith(p) && p.length > bestLen) [bestLen, best] = [p.length, v];
        }
        const ts = lookupElem(rt.space, hdr, key, 0);
        const wa = Number(w.map_lookup_elem(BigInt(hdr), BigInt(key), 0n, 0n, 0n, 0));
        assert.equal(wa, ts, `step ${n}: Wasm and TypeScript lookups`);
        assert.equal(ts === 0 ? -1 : rt.space.dv.getUint32(ts, true), best, `step ${n}: longest match`);
        const shape = trieShape(rt, hdr, max);
        assert.equal(shape.elems, model.size, `step ${n}: elements in the trie`);
        assert.ok(shape.ims < Math.max(1, shape.elems), `step ${n}: fewer intermediate nodes than elements`);
      });
      // every stored prefix is found exactly, with its value
      for (const [p, v] of model) {
        const data = new Array<number>(ds).fill(0);
        for (let i = 0; i < p.length; i++) if (p[i] === '1') data[i >> 3] |= 0x80 >> (i & 7);
        put(p.length, data);
        const a = Number(w.map_lookup_elem(BigInt(hdr), BigInt(key), 0n, 0n, 0n, 0));
        assert.equal(a === 0 ? -1 : rt.space.dv.getUint32(a, true), v, `prefix /${p.length}`);
      }
    }), { numRuns: 150 });
  });
}

for (const ds of [4, 16]) {
  test(`LPM trie (${ds}-byte data): Wasm deletes leave the same results and memory as the TypeScript ones`, () => {
    fc.assert(fc.property(fc.array(stepArb(ds), { minLength: 10, maxLength: 120 }), (steps) => {
      const sides = [0, 1].map(() => {
        const rt = new Runtime({ initialBytes: 1 << 20 });
        const fd = mapCreate(rt, { mapType: BPF_MAP_TYPE_LPM_TRIE, keySize: 4 + ds, valueSize: 8, maxEntries: 12, mapFlags: BPF_F_NO_PREALLOC });
        const key = rt.space.alloc(64, 8);
        return { rt, hdr: rt.map(fd).hdr, key, w: mapRuntimeInstance(rt, rt.context(0), false) as unknown as Record<string, (...x: unknown[]) => bigint> };
      });
      steps.forEach((st, n) => {
        const r = sides.map((s, side) => {
          s.rt.space.dv.setUint32(s.key, st.len, true);
          s.rt.space.u8.set(st.data, s.key + 4);
          s.rt.space.dv.setUint32(s.key + 32, n, true);
          if (st.kind === 'update') return updateElem(s.rt.space, s.hdr, s.key, s.key + 32, 0, 0);
          if (st.kind === 'lookup') return lookupElem(s.rt.space, s.hdr, s.key, 0);
          return side === 0 ? deleteElem(s.rt.space, s.hdr, s.key) : Number(BigInt.asIntN(64, s.w.map_delete_elem(BigInt(s.hdr), BigInt(s.key), 0n, 0n, 0n, 0)));
        });
        assert.equal(r[1], r[0], `step ${n}: ${st.kind}`);
      });
      // the whole map: header, values, keys, slot words and the trie's nodes
      const [a, b] = sides.map((s) => s.rt.space.u8.slice(s.hdr, s.hdr + (1 << 14)));
      assert.deepEqual(b, a);
    }), { numRuns: 150 });
  });
}
