/**
 * The bpf(2) wrapper against the running kernel: loading (and the verifier log on rejection),
 * BPF_PROG_TEST_RUN on XDP packets, the map element commands, and kernelTestRun. Skips with
 * the reason when kernel BPF is unavailable (not Linux, not root, koffi missing, EPERM).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, insn, type Program } from '../../src/core/isa/instruction.js';
import * as o from '../../src/core/isa/opcodes.js';
import {
  BPF_EXIST, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_NOEXIST, BPF_PROG_TYPE_XDP, KernelError, closeFd, kernelAvailable,
  kernelRun, kernelTestRun, mapCreate, mapDelete, mapGetNextKey, mapLookup, mapUpdate, progLoad, progTestRun,
} from '../../src/node/kernel/index.js';

const avail = kernelAvailable();
const skip = avail.ok ? false : `kernel BPF unavailable: ${avail.reason}`;
if (skip) console.log(`# ${skip}`);

/** xdpProg: r0 = packet[0] + packet[1]; packet[2] = 0xab; exit (after a 3-byte bounds check). */
function xdpProg(): Program {
  return [
    insn(o.BPF_LDX | o.BPF_MEM | o.BPF_W, 2, 1, 0),
    insn(o.BPF_LDX | o.BPF_MEM | o.BPF_W, 3, 1, 4),
    insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_X, 4, 2),
    insn(o.BPF_ALU64 | o.BPF_ADD | o.BPF_K, 4, 0, 0, 3),
    insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_K, 0, 0, 0, 0),
    insn(o.BPF_JMP | o.BPF_JGT | o.BPF_X, 4, 3, 5),
    insn(o.BPF_LDX | o.BPF_MEM | o.BPF_B, 0, 2, 0),
    insn(o.BPF_LDX | o.BPF_MEM | o.BPF_B, 5, 2, 1),
    insn(o.BPF_ALU64 | o.BPF_ADD | o.BPF_X, 0, 5),
    insn(o.BPF_ST | o.BPF_MEM | o.BPF_B, 2, 0, 2, 0xab),
    insn(o.BPF_JMP | o.BPF_JA, 0, 0, 0),
    insn(o.BPF_JMP | o.BPF_EXIT),
  ];
}

test('BPF_PROG_TEST_RUN runs an XDP program on data_in and returns retval and data_out', { skip }, () => {
  const data = new Uint8Array(64).map((_, i) => i + 10);
  const { fd, log } = progLoad({ progType: BPF_PROG_TYPE_XDP, insns: encode(xdpProg()), name: 'sum2' });
  assert.equal(log, '');
  try {
    const r = progTestRun(fd, { dataIn: data });
    assert.equal(r.retval, 10 + 11);
    assert.equal(r.dataOut.length, data.length);
    assert.deepEqual([...r.dataOut.subarray(0, 4)], [10, 11, 0xab, 13]);
    assert.deepEqual(r.dataOut.subarray(3), data.subarray(3));
    // XDP test runs need at least an Ethernet header (14 bytes)
    assert.throws(() => progTestRun(fd, { dataIn: new Uint8Array(2) }), (e: unknown) => (e as KernelError).code === 'EINVAL');
  } finally {
    closeFd(fd);
  }
});

test('a rejected program throws E_VERIFIER with the kernel verifier log', { skip }, () => {
  const bad = encode([insn(o.BPF_JMP | o.BPF_EXIT)]);
  assert.throws(() => progLoad({ progType: BPF_PROG_TYPE_XDP, insns: bad }), (e: unknown) => {
    assert.ok(e instanceof KernelError);
    assert.equal(e.code, 'E_VERIFIER');
    assert.equal(e.errno, 13);
    assert.match(e.log, /R0 !read_ok/);
    assert.match(e.message, /R0 !read_ok/);
    return true;
  });
});

test('progLoad with logLevel 1 returns the verifier log of an accepted program', { skip }, () => {
  const { fd, log } = progLoad({ progType: BPF_PROG_TYPE_XDP, insns: encode(xdpProg()), logLevel: 1 });
  closeFd(fd);
  assert.match(log, /processed \d+ insns/);
});

test('hash map: update, lookup, get_next_key, delete, flags', { skip }, () => {
  const fd = mapCreate({ mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 8, name: 'tsbpf_h' });
  try {
    const k = (n: number): Uint8Array => new Uint8Array([n, 0, 0, 0]);
    const v = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(mapLookup(fd, k(1), 8), null);
    assert.equal(mapGetNextKey(fd, null, 4), null);
    mapUpdate(fd, k(1), v);
    mapUpdate(fd, k(2), v.slice().reverse(), BPF_NOEXIST);
    assert.deepEqual(mapLookup(fd, k(1), 8), v);
    assert.deepEqual(mapLookup(fd, k(2), 8), v.slice().reverse());
    assert.throws(() => mapUpdate(fd, k(1), v, BPF_NOEXIST), (e: unknown) => (e as KernelError).code === 'EEXIST');
    assert.throws(() => mapUpdate(fd, k(3), v, BPF_EXIST), (e: unknown) => (e as KernelError).code === 'ENOENT');
    const first = mapGetNextKey(fd, null, 4)!;
    const second = mapGetNextKey(fd, first, 4)!;
    assert.deepEqual(new Set([first[0], second[0]]), new Set([1, 2]));
    assert.equal(mapGetNextKey(fd, second, 4), null);
    assert.equal(mapDelete(fd, k(1)), true);
    assert.equal(mapDelete(fd, k(1)), false);
    assert.equal(mapLookup(fd, k(1), 8), null);
  } finally {
    closeFd(fd);
  }
});

test('array map: zeroed entries, out-of-range index, E2BIG-free update', { skip }, () => {
  const fd = mapCreate({ mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 });
  try {
    assert.deepEqual(mapLookup(fd, new Uint8Array([1, 0, 0, 0]), 4), new Uint8Array(4));
    assert.equal(mapLookup(fd, new Uint8Array([2, 0, 0, 0]), 4), null);
    mapUpdate(fd, new Uint8Array([1, 0, 0, 0]), new Uint8Array([9, 8, 7, 6]));
    assert.deepEqual(mapLookup(fd, new Uint8Array([1, 0, 0, 0]), 4), new Uint8Array([9, 8, 7, 6]));
    assert.throws(() => mapCreate({ mapType: BPF_MAP_TYPE_ARRAY, keySize: 8, valueSize: 4, maxEntries: 2 }),
      (e: unknown) => (e as KernelError).code === 'EINVAL');
  } finally {
    closeFd(fd);
  }
});

test('kernelRun and kernelTestRun report retval and an average duration', { skip }, () => {
  const data = new Uint8Array(32).fill(3);
  assert.equal(kernelRun(encode(xdpProg()), data).retval, 6);
  const t = kernelTestRun(encode(xdpProg()), data, 1000);
  assert.equal(t.retval, 6);
  assert.ok(Number.isInteger(t.nsPerRun) && t.nsPerRun >= 0 && t.nsPerRun < 1e6, `ns per run ${t.nsPerRun}`);
});
