/**
 * The benchmark programs: clang-compiled XDP objects in bench/programs (C sources beside them),
 * each with its input packet and the return value it must produce.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Program } from '../src/core/isa/index.js';
import { parseObject } from '../src/core/elf/index.js';

/** BenchProgram is one program with its input. */
export interface BenchProgram {
  name: string;
  prog: Program;
  data: Uint8Array;
  /** expected return value (low 32 bits of r0) */
  expect: number;
}

const DIR = join(process.cwd(), 'bench', 'programs');

/** loadBenchPrograms reads the five objects and builds their inputs. */
export function loadBenchPrograms(): BenchProgram[] {
  return [
    mk('sum_loop', bytes(64, 7), sumLoop),
    mk('fnv1a', bytes(64, 1), fnv1a),
    mk('parse_udp', udpPacket(), () => 4789),
    mk('xor_1500', bytes(1500, 3), xor1500),
    mk('fib', bytes(64, 5), fib),
  ];
}

function mk(name: string, data: Uint8Array, model: (d: Uint8Array) => number): BenchProgram {
  const obj = parseObject(new Uint8Array(readFileSync(join(DIR, `${name}.o`))));
  const p = obj.programs.find((x) => x.name === name);
  if (!p) throw new Error(`${name}.o has no program ${name}`);
  return { name, prog: p.insns, data, expect: model(data) };
}

/** bytes returns deterministic pseudo-random bytes. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function sumLoop(d: Uint8Array): number {
  let sum = BigInt(d[0]);
  for (let i = 0n; i < 1000n; i++) sum = BigInt.asUintN(64, sum + (i ^ (sum >> 3n)));
  return Number(sum & 0x7fffffffn);
}

function fnv1a(d: Uint8Array): number {
  let h = 2166136261;
  for (let i = 0; i < 64; i++) h = Math.imul(h ^ d[i], 16777619) >>> 0;
  return h & 0x7fffffff;
}

function xor1500(d: Uint8Array): number {
  const dv = new DataView(d.buffer, d.byteOffset);
  let x = 0n;
  for (let i = 0; i + 8 <= 1496; i += 8) x ^= dv.getBigUint64(i, true);
  x ^= BigInt(dv.getUint32(1496, true));
  return Number((x ^ (x >> 32n)) & 0x7fffffffn);
}

function fib(d: Uint8Array): number {
  let a = BigInt(d[0]), b = 1n;
  for (let i = 0; i < 90; i++) [a, b] = [b, BigInt.asUintN(64, a + b)];
  return Number(a & 0x7fffffffn);
}

/** udpPacket builds a 64-byte Ethernet/IPv4/UDP frame to port 4789 with a valid header checksum. */
function udpPacket(): Uint8Array {
  const p = new Uint8Array(64);
  const dv = new DataView(p.buffer);
  p.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2], 0);
  dv.setUint16(12, 0x0800);
  p[14] = 0x45;
  dv.setUint16(16, 50);
  p[22] = 64;
  p[23] = 17;
  p.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += dv.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  dv.setUint16(24, ~sum & 0xffff);
  dv.setUint16(34, 12345);
  dv.setUint16(36, 4789);
  dv.setUint16(38, 30);
  return p;
}
