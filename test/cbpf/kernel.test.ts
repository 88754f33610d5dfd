/**
 * The kernel as a second oracle: classic programs attached with SO_ATTACH_FILTER to a packet
 * socket on a veth pair in a private network namespace. For each program and frame, the bytes
 * the kernel delivers (none, or the first min(verdict, length) bytes) must equal what tsbpf's
 * reference interpreter, and the converted program on the JIT, predict from the same frame as
 * the kernel presents it (outer VLAN tag moved into metadata, pkttype from the destination MAC).
 * The kernel's acceptance of random programs must also match tsbpf's checker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { checkCbpf, convertCbpf, formatD, loadConverted, parseCbpf, runCbpf, sf } from '../../src/core/cbpf/index.js';
import * as c from '../../src/core/cbpf/index.js';
import type { CbpfMeta, CbpfProgram } from '../../src/core/cbpf/index.js';
import { jit } from '../../src/core/jit/index.js';
import { makeCorpus, rng } from '../pcap/packets.js';
import { EXPRESSIONS } from '../pcap/expressions.js';
import { openKernelLink, stripTag, type KernelLink } from './packet-socket.js';

let link: KernelLink | null = null;
let why = '';
try {
  link = openKernelLink();
} catch (e) {
  why = (e as Error).message;
}
process.on('exit', () => link?.close());

/** frames: the corpus as sendable frames, unique, at least 18 bytes. */
function frames(): Uint8Array[] {
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const p of makeCorpus(21, 900)) {
    if (p.data.length < 18 || p.data.length > 9000) continue;
    const key = Buffer.from(p.data).toString('hex');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p.data);
  }
  return out;
}

/** asKernelSees returns the packet bytes and metadata the socket filter sees for a frame. */
function asKernelSees(f: Uint8Array, l: KernelLink): { data: Uint8Array; meta: Partial<CbpfMeta> } {
  const untagged = stripTag(f);
  const data = untagged ?? f;
  const dst = Array.from(data.subarray(0, 6));
  const pkttype = dst.every((b, i) => b === l.mac[i]) ? 0 : dst.every((b) => b === 0xff) ? 1 : dst[0] & 1 ? 2 : 3;
  return {
    data,
    meta: {
      protocol: (data[12] << 8) | data[13], pkttype, ifindex: l.ifindex, hatype: 1, netOffset: 14,
      vlanPresent: untagged ? 1 : 0, vlanTci: untagged ? (f[14] << 8) | f[15] : 0, vlanTpid: untagged ? (f[12] << 8) | f[13] : 0,
    },
  };
}

/**
 * compare checks that the kernel delivered exactly the predicted copies, in order: for each frame
 * the first min(verdict, length) bytes, nothing for verdict 0 (the order identifies frames).
 */
function compare(l: KernelLink, prog: CbpfProgram, fs: Uint8Array[], label: string, failures: string[]): void {
  const got = l.run(prog, fs);
  const conv = loadConverted(jit, convertCbpf(prog), undefined, { checked: false });
  const want: { i: number; bytes: Uint8Array }[] = [];
  fs.forEach((f, i) => {
    const { data, meta } = asKernelSees(f, l);
    const ref = Math.min(runCbpf(prog, data, { meta }), data.length);
    const viaJit = Math.min(conv.run(data, { meta }), data.length);
    if (viaJit !== ref) failures.push(`${label} frame ${i}: interpreter ${ref}, jit ${viaJit}\n${formatD(prog)}`);
    if (ref > 0) want.push({ i, bytes: data.subarray(0, ref) });
  });
  const hex = (b?: Uint8Array): string => (b ? Buffer.from(b).toString('hex') : 'nothing');
  for (let k = 0; k < Math.max(want.length, got.length); k++) {
    if (hex(want[k]?.bytes) !== hex(got[k])) {
      failures.push(`${label}: copy #${k} differs (expected frame ${want[k]?.i}): tsbpf ${hex(want[k]?.bytes).slice(0, 80)} kernel ${hex(got[k]).slice(0, 80)}; ${want.length} vs ${got.length} copies\n${formatD(prog)}`);
      return;
    }
  }
}

test('kernel oracle: tcpdump programs (savefile and live-interface forms) on a veth pair', (t) => {
  if (!link) return t.skip(`kernel packet sockets unavailable: ${why}`);
  const fs = frames();
  assert.ok(fs.length > 700);
  const failures: string[] = [];
  let programs = 0;
  for (const expr of EXPRESSIONS.filter((_, i) => i % 3 === 0)) {
    const ddd = execFileSync('tcpdump', ['-ddd', '-y', 'EN10MB', '--', expr], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    compare(link, parseCbpf(ddd), fs, expr, failures);
    programs++;
  }
  // programs compiled for a live Linux interface use ancillary loads (vlanp, vlan_tci, type, ifidx)
  const ns = `tsbpf-cbpf-${process.pid}`;
  for (const expr of ['vlan', 'vlan 10', 'vlan and ip', 'vlan 100 or arp', 'inbound', 'outbound', `ifindex ${link.ifindex}`, 'vlan and vlan 10']) {
    const ddd = execFileSync('ip', ['netns', 'exec', ns, 'tcpdump', '-i', 'vb', '-ddd', '--', expr], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    compare(link, parseCbpf(ddd), fs, `live ${expr}`, failures);
    programs++;
  }
  assert.deepEqual(failures.slice(0, 5), []);
  assert.ok(programs > 80);
});

/** kernelAccepts tells whether SO_ATTACH_FILTER takes the program. */
function kernelAccepts(l: KernelLink, prog: CbpfProgram): boolean {
  try {
    l.run(prog, []);
    return true;
  } catch (e) {
    if (/SO_ATTACH_FILTER failed/.test((e as Error).message)) return false;
    throw e;
  }
}

/** randomProgram builds short classic programs over loads, ALU, jumps and the deterministic ancillary fields. */
function randomProgram(r: () => number): CbpfProgram {
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
  const anc = [c.SKF_AD_PROTOCOL, c.SKF_AD_PKTTYPE, c.SKF_AD_IFINDEX, c.SKF_AD_HATYPE, c.SKF_AD_VLAN_TAG,
    c.SKF_AD_VLAN_TAG_PRESENT, c.SKF_AD_VLAN_TPID, c.SKF_AD_ALU_XOR_X];
  const n = 3 + Math.floor(r() * 14);
  const prog: CbpfProgram = [];
  for (let i = 0; i < n; i++) {
    const left = n - i;
    const x = r();
    const k = (): number => {
      const y = r();
      if (y < 0.6) return Math.floor(r() * 70);
      if (y < 0.75) return (c.SKF_AD_OFF + pick(anc)) >>> 0;
      if (y < 0.85) return (c.SKF_NET_OFF + Math.floor(r() * 30)) >>> 0;
      return (c.SKF_LL_OFF + Math.floor(r() * 30)) >>> 0;
    };
    if (x < 0.3) prog.push(sf(c.BPF_LD | pick([c.BPF_W, c.BPF_H, c.BPF_B]) | pick([c.BPF_ABS, c.BPF_IND]), 0, 0, k()));
    else if (x < 0.35) prog.push(sf(c.BPF_LDX | c.BPF_B | c.BPF_MSH, 0, 0, k()));
    else if (x < 0.45) prog.push(sf(pick([c.BPF_LDX | c.BPF_IMM, c.BPF_LD | c.BPF_IMM]), 0, 0, Math.floor(r() * 40)));
    else if (x < 0.6) {
      const op = pick([c.BPF_ADD, c.BPF_SUB, c.BPF_AND, c.BPF_OR, c.BPF_RSH, c.BPF_LSH, c.BPF_DIV, c.BPF_MOD, c.BPF_MUL]);
      prog.push(sf(c.BPF_ALU | op | pick([c.BPF_K, c.BPF_X]), 0, 0, Math.floor(r() * 33)));
    } else if (x < 0.65) prog.push(sf(pick([c.BPF_ST, c.BPF_STX, c.BPF_LD | c.BPF_MEM, c.BPF_LDX | c.BPF_MEM]), 0, 0, Math.floor(r() * 18)));
    else if (x < 0.8) prog.push(sf(c.BPF_JMP | pick([c.BPF_JEQ, c.BPF_JGT, c.BPF_JGE, c.BPF_JSET]) | pick([c.BPF_K, c.BPF_X]), Math.floor(r() * (left + 1)), Math.floor(r() * left), Math.floor(r() * 300)));
    else if (x < 0.85) prog.push(sf(c.BPF_MISC | pick([c.BPF_TAX, c.BPF_TXA])));
    else if (x < 0.9) prog.push(sf(c.BPF_LD | c.BPF_W | c.BPF_LEN));
    else prog.push(r() < 0.5 ? sf(c.BPF_RET | c.BPF_A) : sf(c.BPF_RET | c.BPF_K, 0, 0, Math.floor(r() * 80)));
  }
  if (r() < 0.9) prog.push(sf(c.BPF_RET | c.BPF_A));
  return prog;
}

test('kernel oracle: random programs: same checker decisions and same verdicts', (t) => {
  if (!link) return t.skip(`kernel packet sockets unavailable: ${why}`);
  const r = rng(77);
  const fs = frames().slice(0, 150);
  const failures: string[] = [];
  let accepted = 0;
  let rejected = 0;
  for (let n = 0; n < 250; n++) {
    const prog = randomProgram(r);
    let ours = true;
    try {
      checkCbpf(prog);
    } catch {
      ours = false;
    }
    const theirs = kernelAccepts(link, prog);
    if (ours !== theirs) failures.push(`checker: tsbpf ${ours ? 'accepts' : 'rejects'}, kernel ${theirs ? 'accepts' : 'rejects'}\n${formatD(prog)}`);
    if (!ours || !theirs) {
      rejected++;
      continue;
    }
    accepted++;
    compare(link, prog, fs, `random #${n}`, failures);
  }
  assert.deepEqual(failures.slice(0, 5), []);
  assert.ok(accepted > 50 && rejected > 20, `accepted ${accepted}, rejected ${rejected}`);
});
