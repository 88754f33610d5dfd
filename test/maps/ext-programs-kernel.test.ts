/**
 * Programs using maps of maps and bloom filters against the kernel: the same socket-filter
 * program (the kernel's under BPF_PROG_TEST_RUN, tsbpf's in both engines) reads an operation
 * from the packet with LD_ABS and does a two-level lookup in an array-of-maps or a
 * hash-of-maps, or a bloom filter push or peek (zero seed, so peeks — false positives
 * included — must agree). Return values are compared operation by operation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/assemble.js';
import { encode } from '../../src/core/isa/instruction.js';
import { isBpfError } from '../../src/core/errors.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import { closeFd, progLoad, progTestRun } from '../../src/node/kernel/bpf-syscall.js';
import { kClose, kCreate, kElem, le32 } from './ext-kernel-util.js';

const avail = kernelAvailable();
const SOCKET_FILTER = 1;

/** skb[0] = op (0 lookup, 1 push, 2 peek); lookup: skb[1] outer key, skb[2] inner key; bloom: the word at skb[4]. */
function program(outer: number, bloom: number): string {
  return `
    r6 = r1
    r0 = *(u8 *)skb[0]
    r7 = r0
    r0 = *(u32 *)skb[4]
    *(u32 *)(r10 - 12) = r0
    if r7 != 0 goto bloom
    r0 = *(u8 *)skb[1]
    *(u32 *)(r10 - 4) = r0
    r0 = *(u8 *)skb[2]
    *(u32 *)(r10 - 8) = r0
    r2 = r10
    r2 += -4
    ld_pseudo r1, 1, ${outer}
    call 1
    if r0 == 0 goto no_outer
    r1 = r0
    r2 = r10
    r2 += -8
    call 1
    if r0 == 0 goto no_inner
    r0 = *(u32 *)(r0 + 0)
    exit
  bloom:
    ld_pseudo r1, 1, ${bloom}
    r2 = r10
    r2 += -12
    if r7 != 1 goto peek
    r3 = 0
    call 87
    r0 += 5000
    exit
  peek:
    call 89
    r0 += 6000
    exit
  no_outer:
    r0 = 1001
    exit
  no_inner:
    r0 = 1002
    exit`;
}

type Op = [number, number, number, number];

function ops(): Op[] {
  const out: Op[] = [];
  for (let o = 0; o < 6; o++) for (const k of [0, 1, 3, 4]) out.push([0, o, k, 0]);
  for (let v = 0; v < 40; v += 3) out.push([1, 0, 0, v * 7919]);
  for (let v = 0; v < 400; v++) out.push([2, 0, 0, v * 7919]);
  return out;
}

function packet(op: Op, eth: boolean): Uint8Array {
  const p = new Uint8Array((eth ? 14 : 0) + 16);
  const b = eth ? 14 : 0;
  p[b] = op[0]; p[b + 1] = op[1]; p[b + 2] = op[2];
  new DataView(p.buffer).setUint32(b + 4, op[3], false);
  if (eth) p.set([0x88, 0xcc], 12); // not IP: the kernel would want a whole IP header
  return p;
}

for (const outerType of [12, 13]) {
  test(`${outerType === 12 ? 'array' : 'hash'}-of-maps and bloom filter programs: the kernel's results in both engines`, (t) => {
    if (!avail.ok) return t.skip(avail.reason);
    const innerAttr = { mapType: 2, keySize: 4, valueSize: 4, maxEntries: 4 };
    const outerAttr = { mapType: outerType, keySize: 4, valueSize: 4, maxEntries: 4 };
    const bloomAttr = { mapType: 30, keySize: 0, valueSize: 4, maxEntries: 50, mapFlags: 1 << 6 };
    const slots: Array<[number, number]> = outerType === 12 ? [[0, 0], [2, 1]] : [[0, 0], [2, 1], [5, 2]];
    // the kernel's maps and program
    const kin = [0, 1, 2].map(() => kCreate(innerAttr));
    const kout = kCreate({ ...outerAttr, innerMapFd: kin[0] });
    const kbloom = kCreate({ ...bloomAttr, mapExtra: 3n });
    let kprog = -1;
    try {
      assert.ok([...kin, kout, kbloom].every((f) => f >= 0), 'kernel maps');
      kin.forEach((fd, i) => [0, 1, 2, 3].forEach((k) => assert.equal(kElem(2, fd, le32(k), le32(100 * i + k), 4).errno, 0)));
      for (const [k, i] of slots) assert.equal(kElem(2, kout, le32(k), le32(kin[i]), 4).errno, 0);
      kprog = progLoad({ progType: SOCKET_FILTER, insns: encode(assemble(program(kout, kbloom))), license: 'GPL' }).fd;
      const expected = ops().map((op) => progTestRun(kprog, { dataIn: packet(op, true) }).retval);
      for (const [name, engine, checked] of [['interp', interpreter, true], ['jit', jit, true], ['jit trusted', jit, false]] as const) {
        const rt = new Runtime();
        const inner = [0, 1, 2].map(() => cmd.mapCreate(rt, innerAttr));
        inner.forEach((fd, i) => [0, 1, 2, 3].forEach((k) => cmd.mapUpdateElem(rt, fd, le32(k), le32(100 * i + k))));
        const outer = cmd.mapCreate(rt, { ...outerAttr, innerMapFd: inner[0] });
        for (const [k, i] of slots) cmd.mapUpdateElem(rt, outer, le32(k), le32(inner[i]));
        const bloom = cmd.mapCreate(rt, { ...bloomAttr, mapExtra: 3 });
        const p = rt.load(engine, assemble(program(outer, bloom)), { checked });
        const buf = rt.space.alloc(64, 8);
        const got = ops().map((op) => {
          rt.space.u8.set(packet(op, false), buf);
          try {
            return Number(p.run({ args: [BigInt(buf)], packet: { start: buf, len: 16 }, regions: [] }).r0 & 0xffffffffn);
          } catch (e) {
            if (isBpfError(e)) return `${e.code}@${e.context.insn}`;
            throw e;
          }
        });
        assert.deepEqual(got, expected, name);
      }
      assert.ok(expected.includes(1001) && expected.includes(1002) && expected.includes(6000), 'misses, hits and bloom answers all occur');
    } finally {
      if (kprog >= 0) closeFd(kprog);
      kClose(kout, kbloom, ...kin);
    }
  });
}
