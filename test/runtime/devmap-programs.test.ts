/**
 * Programs using devmaps run identically in the interpreter and the JIT (checked and
 * trusted): bpf_redirect_map verdicts and the redirect words it leaves (unicast ifindex,
 * broadcast map and flags, cleared on a miss), the fallback action in the low flag bits,
 * XDP_ABORTED on unknown flags, lookups that read {ifindex, prog id}, writes through a lookup
 * result refused (the map is read-only for programs), and map_update_elem refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/assemble.js';
import { isBpfError } from '../../src/core/errors.js';
import type { Engine } from '../../src/core/vm/engine.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { redirectTarget, BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS } from '../../src/core/runtime/redirect.js';
import { devTargets } from '../../src/core/maps/devmap.js';
import { BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH } from '../../src/core/maps/ext.js';

const engines: Array<[string, Engine, boolean]> = [
  ['interp checked', interpreter, true], ['interp trusted', interpreter, false],
  ['jit checked', jit, true], ['jit trusted', jit, false],
];

const le32 = (...n: number[]): Uint8Array => new Uint8Array(new Uint32Array(n).buffer);

function outcome(fn: () => bigint): bigint | string {
  try {
    return fn();
  } catch (e) {
    if (isBpfError(e)) return `${e.code}@${e.context.insn}`;
    throw e;
  }
}

/** setup: a 2-CPU runtime with a devmap (or devmap-hash) holding key 1 -> ifindex 7 (+ a program), key 3 -> ifindex 9. */
function setup(mapType: number) {
  const rt = new Runtime({ cpus: 2 });
  const fd = cmd.mapCreate(rt, { mapType, keySize: 4, valueSize: 8, maxEntries: 8 });
  const egress = rt.load(interpreter, assemble('r0 = 2\nexit'));
  cmd.mapUpdateElem(rt, fd, le32(1), le32(7, egress.fd));
  cmd.mapUpdateElem(rt, fd, le32(3), le32(9, 0));
  return { rt, fd, egressId: egress.id };
}

for (const mapType of [BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH]) {
  const kind = mapType === BPF_MAP_TYPE_DEVMAP ? 'devmap' : 'devmap-hash';
  test(`${kind}: bpf_redirect_map verdicts and redirect words in every engine`, () => {
    const cases: Array<[number, number, bigint, number, number]> = [
      // key, flags, r0, target, flags word
      [1, 0, 4n, 7, 0], [3, 0, 4n, 9, 0], [2, 0, 0n, 0, 0], [2, 2, 2n, 0, 0], [5, 3, 3n, 0, 0], [1, 2, 4n, 7, 0],
      [2, BPF_F_BROADCAST, 4n, -1, BPF_F_BROADCAST], [1, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS, 4n, -1, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS],
      [1, BPF_F_EXCLUDE_INGRESS, 4n, 7, 0], [1, 4, 0n, 0, 0], [1, 0x20, 0n, 0, 0], [0x100000001, 0, 4n, 7, 0],
    ];
    for (const [name, engine, checked] of engines) {
      const { rt, fd } = setup(mapType);
      const hdr = rt.map(fd).hdr;
      const prog = rt.load(engine, assemble(`
        r3 = r2
        r2 = r1
        ld_pseudo r1, 1, ${fd}
        call 51
        exit`), { checked, cpu: 1 });
      for (const [key, flags, r0, target, fw] of cases) {
        // stale words from a previous run must be overwritten (or cleared) by each call
        rt.space.dv.setUint32(rt.space.alloc(8), 0, true);
        const got = prog.run({ args: [BigInt(key), BigInt(flags)] }).r0;
        const what = `${name} key ${key} flags ${flags}`;
        assert.equal(got, r0, what);
        if (r0 === 0n && flags !== 0 && (flags & ~0x1b) !== 0) continue; // aborted: words untouched, as in Linux
        assert.deepEqual(redirectTarget(rt, 1), { target: target === -1 ? hdr : target, flags: fw }, what);
      }
      assert.deepEqual(redirectTarget(rt, 0), { target: 0, flags: 0 }, `${name}: cpu 0 words untouched`);
    }
  });

  test(`${kind}: lookups read {ifindex, prog id}; the value is read-only; updates are refused`, () => {
    const results = new Map<string, Array<bigint | string>>();
    for (const [name, engine, checked] of engines) {
      const { rt, fd, egressId } = setup(mapType);
      const look = rt.load(engine, assemble(`
        *(u32 *)(r10 - 4) = r1
        r2 = r10
        r2 += -4
        ld_pseudo r1, 1, ${fd}
        call 1
        if r0 == 0 goto none
        r1 = *(u32 *)(r0 + 4)
        r0 = *(u32 *)(r0 + 0)
        r1 <<= 32
        r0 |= r1
        exit
      none:
        r0 = -1
        exit`), { checked });
      const write = rt.load(engine, assemble(`
        *(u32 *)(r10 - 4) = r1
        r2 = r10
        r2 += -4
        ld_pseudo r1, 1, ${fd}
        call 1
        if r0 == 0 goto none
        r1 = 5
        *(u32 *)(r0 + 0) = r1
      none:
        r0 = 0
        exit`), { checked });
      const update = rt.load(engine, assemble(`
        *(u64 *)(r10 - 8) = r1
        r2 = r10
        r2 += -8
        r3 = r10
        r3 += -8
        r4 = 0
        ld_pseudo r1, 1, ${fd}
        call 2
        exit`), { checked });
      const out = [1n, 3n, 2n, 8n].map((k) => outcome(() => look.run({ args: [k] }).r0));
      assert.deepEqual(out, [(BigInt(egressId) << 32n) | 7n, 9n, 0xffffffffffffffffn, 0xffffffffffffffffn], name);
      const w = outcome(() => write.run({ args: [1n] }).r0);
      if (checked) assert.equal(w, 'E_MEM@8', `${name}: write through a devmap lookup`);
      assert.equal(outcome(() => update.run({ args: [1n] }).r0), 'E_HELPER@8', `${name}: map_update_elem on a devmap`);
      results.set(name, out);
    }
  });
}

test('devTargets lists the interfaces a broadcast reaches, in iteration order', () => {
  const rt = new Runtime();
  const a = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_DEVMAP, keySize: 4, valueSize: 4, maxEntries: 8 });
  const h = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_DEVMAP_HASH, keySize: 4, valueSize: 4, maxEntries: 8 });
  for (const [k, i] of [[5, 3], [0, 2], [7, 4]]) {
    cmd.mapUpdateElem(rt, a, le32(k), le32(i));
    cmd.mapUpdateElem(rt, h, le32(k + 8), le32(i));
  }
  cmd.mapDeleteElem(rt, a, le32(0));
  assert.deepEqual(devTargets(rt.space, rt.map(a).hdr), [3, 4]);
  // devmap-hash: bucket (key & 7) order: 8 -> 2, 13 -> 3, 15 -> 4
  assert.deepEqual(devTargets(rt.space, rt.map(h).hdr), [2, 3, 4]);
});
