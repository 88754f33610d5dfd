/**
 * Classic BPF: the checker's kernel rules, the reference interpreter's semantics (packet
 * bounds, division by zero, ancillary and negative-offset loads), the text forms, and the
 * converter agreeing with the interpreter on random programs, on the eBPF interpreter and JIT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as c from '../../src/core/cbpf/index.js';
import { checkCbpf, compileCbpfToJs, compileCbpfToJsRaw, convertCbpf, loadConverted, parseCbpf, runCbpf, sf, formatD, formatDD, formatDDD } from '../../src/core/cbpf/index.js';
import type { CbpfMeta, CbpfProgram } from '../../src/core/cbpf/index.js';
import { isBpfError } from '../../src/core/errors.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { rng } from '../pcap/packets.js';

const LD = c.BPF_LD, ABS = c.BPF_ABS, IND = c.BPF_IND;
const ret = (k: number) => sf(c.BPF_RET | c.BPF_K, 0, 0, k);
const retA = () => sf(c.BPF_RET | c.BPF_A);

function checkFails(prog: CbpfProgram, code: string, insn?: number): void {
  assert.throws(() => checkCbpf(prog), (e: unknown) => isBpfError(e) && e.code === code && (insn === undefined || e.context.insn === insn));
}

test('checker: kernel rules', () => {
  checkFails([], 'EINVAL');
  checkFails(new Array(4097).fill(ret(0)), 'E2BIG');
  checkFails([sf(LD | c.BPF_W | ABS, 0, 0, 0)], 'E_NO_EXIT', 0);
  checkFails([sf(0xff), ret(0)], 'E_BAD_OPCODE', 0);
  checkFails([sf(LD | c.BPF_H | c.BPF_IMM), ret(0)], 'E_BAD_OPCODE', 0);
  checkFails([sf(c.BPF_JMP | c.BPF_JEQ, 1, 0, 0), ret(0)], 'E_BAD_JUMP', 0);
  checkFails([sf(c.BPF_JMP | c.BPF_JA, 0, 0, 1), ret(0)], 'E_BAD_JUMP', 0);
  checkFails([sf(c.BPF_JMP | c.BPF_JA, 0, 0, 0xffffffff), ret(0)], 'E_BAD_JUMP', 0);
  checkFails([sf(c.BPF_ST, 0, 0, 16), ret(0)], 'EINVAL', 0);
  checkFails([sf(c.BPF_LDX | c.BPF_MEM, 0, 0, 99), ret(0)], 'EINVAL', 0);
  checkFails([sf(c.BPF_ALU | c.BPF_DIV | c.BPF_K, 0, 0, 0), ret(0)], 'EINVAL', 0);
  checkFails([sf(c.BPF_ALU | c.BPF_MOD | c.BPF_K, 0, 0, 0), ret(0)], 'EINVAL', 0);
  checkFails([sf(c.BPF_ALU | c.BPF_LSH | c.BPF_K, 0, 0, 32), ret(0)], 'EINVAL', 0);
  // scratch read before write on one path only
  checkFails([sf(c.BPF_JMP | c.BPF_JEQ | c.BPF_K, 0, 1, 0), sf(c.BPF_ST, 0, 0, 3), sf(LD | c.BPF_MEM, 0, 0, 3), retA()], 'EINVAL', 2);
  checkCbpf([sf(c.BPF_ST, 0, 0, 3), sf(c.BPF_JMP | c.BPF_JEQ | c.BPF_K, 0, 0, 0), sf(LD | c.BPF_MEM, 0, 0, 3), retA()]);
  checkCbpf([sf(c.BPF_ALU | c.BPF_DIV | c.BPF_X), ret(1)]);
});

test('interpreter: loads past the captured bytes return 0, len is the wire length', () => {
  const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  const word = [sf(LD | c.BPF_W | ABS, 0, 0, 2), retA()];
  assert.equal(runCbpf(word, data), 0x03040506);
  assert.equal(runCbpf([sf(LD | c.BPF_W | ABS, 0, 0, 3), ret(7)], data), 0);
  assert.equal(runCbpf([sf(LD | c.BPF_W | c.BPF_LEN), retA()], data, { wireLen: 1500 }), 1500);
  assert.equal(runCbpf([sf(c.BPF_LDX | c.BPF_B | c.BPF_MSH, 0, 0, 0), sf(c.BPF_MISC | c.BPF_TXA), retA()], data), 4);
  const ind = [sf(c.BPF_LDX | c.BPF_IMM, 0, 0, 4), sf(LD | c.BPF_H | IND, 0, 0, 0), retA()];
  assert.equal(runCbpf(ind, data), 0x0506);
  assert.equal(runCbpf([sf(c.BPF_LDX | c.BPF_IMM, 0, 0, 5), sf(LD | c.BPF_H | IND, 0, 0, 0), ret(9)], data), 0);
});

test('interpreter: division by a zero X returns 0, shifts by X use 5 bits', () => {
  const div = [sf(LD | c.BPF_IMM, 0, 0, 10), sf(c.BPF_ALU | c.BPF_DIV | c.BPF_X), ret(5)];
  assert.equal(runCbpf(div, new Uint8Array(0)), 0);
  const mod = [sf(LD | c.BPF_IMM, 0, 0, 10), sf(c.BPF_LDX | c.BPF_IMM, 0, 0, 3), sf(c.BPF_ALU | c.BPF_MOD | c.BPF_X), retA()];
  assert.equal(runCbpf(mod, new Uint8Array(0)), 1);
  const shl = [sf(LD | c.BPF_IMM, 0, 0, 1), sf(c.BPF_LDX | c.BPF_IMM, 0, 0, 33), sf(c.BPF_ALU | c.BPF_LSH | c.BPF_X), retA()];
  assert.equal(runCbpf(shl, new Uint8Array(0)), 2);
  const neg = [sf(LD | c.BPF_IMM, 0, 0, 1), sf(c.BPF_ALU | c.BPF_NEG), retA()];
  assert.equal(runCbpf(neg, new Uint8Array(0)), 0xffffffff);
});

test('interpreter: ancillary and negative-offset loads need meta (kernel mode)', () => {
  const anc = (idx: number) => [sf(LD | c.BPF_W | ABS, 0, 0, (c.SKF_AD_OFF + idx) >>> 0), retA()];
  const meta: Partial<CbpfMeta> = { protocol: 0x86dd, pkttype: 4, ifindex: 7, vlanTci: 0x2005, vlanPresent: 1, random: 99, cpu: 3, netOffset: 2 };
  const data = Uint8Array.from([0xa, 0xb, 0xc, 0xd, 0xe, 0xf]);
  assert.equal(runCbpf(anc(c.SKF_AD_PROTOCOL), data, { meta }), 0x86dd);
  assert.equal(runCbpf(anc(c.SKF_AD_PKTTYPE), data, { meta }), 4);
  assert.equal(runCbpf(anc(c.SKF_AD_IFINDEX), data, { meta }), 7);
  assert.equal(runCbpf(anc(c.SKF_AD_VLAN_TAG), data, { meta }), 0x2005);
  assert.equal(runCbpf(anc(c.SKF_AD_VLAN_TAG_PRESENT), data, { meta }), 1);
  assert.equal(runCbpf(anc(c.SKF_AD_RANDOM), data, { meta }), 99);
  assert.equal(runCbpf(anc(c.SKF_AD_CPU), data, { meta }), 3);
  assert.equal(runCbpf(anc(c.SKF_AD_PROTOCOL), data), 0, 'no meta: libpcap mode rejects');
  const net = [sf(LD | c.BPF_B | ABS, 0, 0, (c.SKF_NET_OFF + 1) >>> 0), retA()];
  assert.equal(runCbpf(net, data, { meta }), 0xd);
  const ll = [sf(LD | c.BPF_H | ABS, 0, 0, (c.SKF_LL_OFF + 4) >>> 0), retA()];
  assert.equal(runCbpf(ll, data, { meta }), 0x0e0f);
  assert.equal(runCbpf(ll, data), 0);
  const xor = [sf(LD | c.BPF_IMM, 0, 0, 0xf0), sf(c.BPF_LDX | c.BPF_IMM, 0, 0, 0x0f), sf(LD | c.BPF_W | ABS, 0, 0, (c.SKF_AD_OFF + c.SKF_AD_ALU_XOR_X) >>> 0), retA()];
  assert.equal(runCbpf(xor, data, { meta }), 0xff);
});

const SAMPLE_D = `(000) ldh      [12]
(001) jeq      #0x800           jt 2\tjf 5
(002) ldb      [23]
(003) jeq      #0x6             jt 4\tjf 5
(004) ret      #262144
(005) ret      #0
`;

test('text forms: -d, -dd and -ddd read and print back identically', () => {
  const prog = parseCbpf(SAMPLE_D);
  assert.equal(formatD(prog), SAMPLE_D);
  assert.deepEqual(parseCbpf(formatDD(prog)), prog);
  assert.deepEqual(parseCbpf(formatDDD(prog)), prog);
  assert.equal(formatDDD(prog).split('\n')[0], '6');
  assert.equal(formatDD(prog).split('\n')[0], '{ 0x28, 0, 0, 0x0000000c },');
  const all = parseCbpf(`ld #pktlen\nldx M[3]\nst M[1]\nstx M[2]\nldxb 4*([14]&0xf)\nld [x + 14]\nldh [vlanp]\nld [ifidx]\nadd x\nand #0xff\nsub #4\nneg\ntax\ntxa\nja 18\njset x jt 17 jf 18\nldx #0x5\nret\nret #0\n`);
  assert.equal(formatD(parseCbpf(formatD(all))), formatD(all));
  assert.equal(all[6].k, (c.SKF_AD_OFF + c.SKF_AD_VLAN_TAG_PRESENT) >>> 0);
});

test('text forms: errors carry the line', () => {
  const bad = ['(000) ret #0\n(002) ret #1\n', 'ldq [1]\nret #0', 'jeq #1 jt 0 jf 1\nret #0', '2\n6 0 0 0\n', '{ 0x6, 0, 0 },', 'ld [zz]\n'];
  for (const text of bad) assert.throws(() => parseCbpf(text), (e: unknown) => isBpfError(e) && (e.context.line ?? 0) >= 1, text);
});

/** randomProgram builds a random classic program that usually passes the checker. */
function randomProgram(r: () => number): CbpfProgram {
  const n = 2 + Math.floor(r() * 30);
  const prog: CbpfProgram = [sf(c.BPF_ST, 0, 0, 0), sf(c.BPF_STX, 0, 0, 1)];
  const ks = () => {
    const x = r();
    if (x < 0.5) return Math.floor(r() * 40);
    if (x < 0.6) return (c.SKF_AD_OFF + 4 * Math.floor(r() * 17)) >>> 0;
    if (x < 0.7) return (c.SKF_NET_OFF + Math.floor(r() * 20)) >>> 0;
    if (x < 0.8) return (c.SKF_LL_OFF + Math.floor(r() * 20)) >>> 0;
    return Math.floor(r() * 2 ** 32);
  };
  const sizes = [c.BPF_W, c.BPF_H, c.BPF_B];
  const alu = [c.BPF_ADD, c.BPF_SUB, c.BPF_MUL, c.BPF_DIV, c.BPF_MOD, c.BPF_AND, c.BPF_OR, c.BPF_XOR, c.BPF_LSH, c.BPF_RSH];
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)];
  for (let i = 0; i < n; i++) {
    const left = n - i;
    const x = r();
    if (x < 0.25) prog.push(sf(LD | pick(sizes) | pick([ABS, IND]), 0, 0, ks()));
    else if (x < 0.3) prog.push(sf(c.BPF_LDX | c.BPF_B | c.BPF_MSH, 0, 0, ks()));
    else if (x < 0.35) prog.push(sf(pick([LD | c.BPF_IMM, c.BPF_LDX | c.BPF_IMM]), 0, 0, r() < 0.5 ? Math.floor(r() * 64) : ks()));
    else if (x < 0.4) prog.push(sf(pick([LD | c.BPF_MEM, c.BPF_LDX | c.BPF_MEM, c.BPF_ST, c.BPF_STX]), 0, 0, Math.floor(r() * 2)));
    else if (x < 0.6) {
      const op = pick(alu);
      const k = op === c.BPF_LSH || op === c.BPF_RSH ? Math.floor(r() * 32) : Math.floor(r() * 2 ** 32) || 1;
      prog.push(sf(c.BPF_ALU | op | (r() < 0.5 ? c.BPF_X : c.BPF_K), 0, 0, k));
    } else if (x < 0.63) prog.push(sf(c.BPF_ALU | c.BPF_NEG));
    else if (x < 0.68) prog.push(sf(c.BPF_MISC | pick([c.BPF_TAX, c.BPF_TXA])));
    else if (x < 0.85) {
      const op = pick([c.BPF_JEQ, c.BPF_JGT, c.BPF_JGE, c.BPF_JSET]);
      prog.push(sf(c.BPF_JMP | op | (r() < 0.3 ? c.BPF_X : c.BPF_K), Math.floor(r() * left), Math.floor(r() * left), r() < 0.5 ? Math.floor(r() * 300) : Math.floor(r() * 2 ** 32)));
    } else if (x < 0.88) prog.push(sf(c.BPF_JMP | c.BPF_JA, 0, 0, Math.floor(r() * left)));
    else if (x < 0.93) prog.push(r() < 0.5 ? retA() : ret(Math.floor(r() * 2 ** 32)));
    else prog.push(sf(c.BPF_LD | c.BPF_W | c.BPF_LEN));
  }
  prog.push(r() < 0.5 ? retA() : ret(0xffff));
  return prog;
}

test('converter and JS compiler: results agree with the reference interpreter (eBPF interpreter, JIT, JS)', () => {
  const r = rng(2024);
  let checked = 0;
  for (let n = 0; n < 400; n++) {
    const prog = randomProgram(r);
    try {
      checkCbpf(prog);
    } catch {
      continue;
    }
    checked++;
    const ebpf = convertCbpf(prog);
    const js = compileCbpfToJs(prog);
    const raw = compileCbpfToJsRaw(prog);
    type Opts = { wireLen: number; meta?: Partial<CbpfMeta> };
    // the raw form reads the packet inside a larger buffer: bytes around it must stay invisible
    const inBuffer = (d: Uint8Array, o: Opts) => {
      const buf = new Uint8Array(d.length + 40).fill(0xee);
      buf.set(d, 7);
      return raw(buf, 7, d.length, o.wireLen, o.meta);
    };
    const engines = [loadConverted(interpreter, ebpf), loadConverted(jit, ebpf), { run: (d: Uint8Array, o: Opts) => js(d, o.wireLen, o.meta) }, { run: inBuffer }];
    for (let p = 0; p < 8; p++) {
      const data = Uint8Array.from({ length: Math.floor(r() * 48) }, () => Math.floor(r() * 256));
      const meta: Partial<CbpfMeta> | undefined = r() < 0.5 ? undefined
        : { protocol: 0x800, pkttype: 1, ifindex: 3, vlanTci: 77, vlanPresent: 1, random: Math.floor(r() * 2 ** 32), cpu: 1, netOffset: Math.floor(r() * 20), mark: 5 };
      const opts = { wireLen: data.length + Math.floor(r() * 3) * 100, meta };
      const want = runCbpf(prog, data, opts);
      for (const e of engines) assert.equal(e.run(data, opts), want, `program ${formatD(prog)} on ${Array.from(data)}`);
    }
  }
  assert.ok(checked > 150, `only ${checked} random programs passed the checker`);
});

test('converter: refuses programs the checker rejects', () => {
  assert.throws(() => convertCbpf([sf(LD | c.BPF_W | ABS)]), (e: unknown) => isBpfError(e) && e.code === 'E_NO_EXIT');
});
