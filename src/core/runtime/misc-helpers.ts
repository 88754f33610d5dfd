/**
 * Small helpers with the kernel's semantics: bpf_csum_diff (x86-64 csum_partial arithmetic
 * and the 16-bit fold of Linux 6.18, so results equal the kernel's bit for bit), bpf_get_current_pid_tgid / uid_gid / comm (a
 * configurable "current task", see setCurrentTask), bpf_strtol / bpf_strtoul (the kernel's
 * parser: leading spaces, '-', base 0/8/10/16 with 0x and 0 prefixes, at most 63 characters,
 * -ERANGE on overflow, result = characters consumed).
 */
import type { HelperEnv } from '../helpers/registry.js';
import { helperPointer } from './helpers.js';
import type { Runtime } from './runtime.js';

const EINVAL = 22, ERANGE = 34;
const M64 = (1n << 64n) - 1n;

function neg(e: number): bigint {
  return BigInt.asUintN(64, BigInt(-e));
}

// ---- csum_diff ---------------------------------------------------------------------------

/**
 * csumPartial is x86-64's csum_partial: a 64-bit one's complement sum (end-around carry) of
 * the little-endian u64 words of [at, at+len) (tail zero-padded) and `seed`, folded to 32 bits.
 */
export function csumPartial(u8: Uint8Array, at: number, len: number, seed: number): number {
  let t = BigInt(seed >>> 0);
  for (let i = 0; i < len; i += 8) {
    let w = 0n;
    for (let k = Math.min(7, len - i - 1); k >= 0; k--) w = (w << 8n) | BigInt(u8[at + i + k]);
    t += w;
    if (t > M64) t = (t & M64) + 1n;
  }
  // csum_finalize_sum: (t + ror64(t, 32)) >> 32
  const ror = ((t >> 32n) | (t << 32n)) & M64;
  return Number(((t + ror) & M64) >> 32n);
}

/** csumAdd / csumSub are the kernel's 32-bit one's complement add and subtract. */
export function csumAdd(a: number, b: number): number {
  const r = ((a >>> 0) + (b >>> 0)) >>> 0;
  return (r + (r < b >>> 0 ? 1 : 0)) >>> 0;
}

function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}

/** csumFrom32to16 folds a 32-bit sum to 16 bits with end-around carry (the kernel's csum_from32to16). */
export function csumFrom32to16(x: number): number {
  return ((x + ((x >>> 16) | (x << 16))) >>> 0) >>> 16;
}

/**
 * csumDiff is bpf_csum_diff over [from, from+fromSize) and [to, to+toSize): the 32-bit
 * difference folded to 16 bits, as Linux 6.18 returns it (any sizes: no multiple-of-4 rule).
 */
export function csumDiff(u8: Uint8Array, from: number, fromSize: number, to: number, toSize: number, seed: number): bigint {
  let r: number;
  if (fromSize && toSize) r = csumSub(csumPartial(u8, to, toSize, seed), csumPartial(u8, from, fromSize, 0));
  else if (toSize) r = csumPartial(u8, to, toSize, seed);
  else r = ~csumPartial(u8, from, fromSize, ~seed >>> 0) >>> 0;
  return BigInt(csumFrom32to16(r));
}

// ---- current task ------------------------------------------------------------------------

/** CurrentTask is what bpf_get_current_* report. */
export interface CurrentTask {
  pid: number;
  tgid: number;
  uid: number;
  gid: number;
  comm: string;
}

const tasks = new WeakMap<Runtime, CurrentTask>();

/** setCurrentTask sets the task the runtime's programs see as current (default pid/tgid/uid/gid 0, comm "tsbpf"). */
export function setCurrentTask(rt: Runtime, t: Partial<CurrentTask>): void {
  tasks.set(rt, { ...currentTask(rt), ...t });
}

/** currentTask returns the runtime's current task. */
export function currentTask(rt: Runtime): CurrentTask {
  return tasks.get(rt) ?? { pid: 0, tgid: 0, uid: 0, gid: 0, comm: 'tsbpf' };
}

/** getCurrentComm copies comm (at most size - 1 bytes, NUL-padded) like strscpy_pad. */
function getCurrentComm(rt: Runtime, buf: bigint, size: bigint, env: HelperEnv): bigint {
  const n = Number(size & 0xffffffffn);
  const at = helperPointer(env, buf, n, true);
  const comm = new TextEncoder().encode(currentTask(rt).comm).subarray(0, 15);
  const u8 = rt.space.u8;
  u8.fill(0, at, at + n);
  if (n > 0) u8.set(comm.subarray(0, n - 1), at);
  return 0n;
}

// ---- strtol / strtoul --------------------------------------------------------------------

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || c === 0xa0;

function digit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : 99;
}

/** strtoull is __bpf_strtoull: consumed characters (or -errno), the value and the sign. */
export function strtoull(u8: Uint8Array, at: number, len: number, flags: bigint): { r: number; v: bigint; negative: boolean } {
  let base = Number(flags & 0x1fn);
  const bad = { r: -EINVAL, v: 0n, negative: false };
  if (len === 0 || (base !== 0 && base !== 8 && base !== 10 && base !== 16) || (flags & ~0x1fn) !== 0n) return bad;
  let p = 0;
  while (p < len && isSpace(u8[at + p])) p++;
  const negative = p < len && u8[at + p] === 45;
  if (negative) p++;
  if (p === len) return bad;
  // the kernel copies at most 63 characters into a NUL-terminated buffer
  const s = Array.from(u8.subarray(at + p, at + p + Math.min(len - p, 63)));
  s.push(0, 0, 0);
  let q = 0;
  if (base === 0) base = s[0] === 48 ? ((s[1] | 0x20) === 120 && digit(s[2]) < 16 ? 16 : 8) : 10;
  if (base === 16 && s[0] === 48 && (s[1] | 0x20) === 120) q = 2;
  let v = 0n, n = 0, overflow = false;
  for (; ; q++, n++) {
    const d = digit(s[q]);
    if (d >= base) break;
    const next = v * BigInt(base) + BigInt(d);
    if (next > M64) overflow = true;
    v = next & M64;
  }
  if (overflow) return { r: -ERANGE, v: 0n, negative };
  if (n === 0) return bad;
  return { r: p + q, v, negative };
}

function strtol(rt: Runtime, buf: bigint, len: bigint, flags: bigint, res: bigint, env: HelperEnv, signed: boolean): bigint {
  const n = Number(len & 0xffffffffn);
  const at = helperPointer(env, buf, n, false);
  const out = helperPointer(env, res, 8, true);
  const dv = rt.space.dv;
  dv.setBigUint64(out, 0n, true);
  const { r, v, negative } = strtoull(rt.space.u8, at, n, flags);
  if (r < 0) return neg(-r);
  let value = v;
  if (signed) {
    if (negative ? BigInt.asIntN(64, -v) > 0n : BigInt.asIntN(64, v) < 0n) return neg(ERANGE);
    value = negative ? BigInt.asUintN(64, -v) : v;
  } else if (negative) return neg(EINVAL);
  dv.setBigUint64(out, value, true);
  return BigInt(r);
}

/** registerMiscHelpers adds csum_diff, get_current_pid_tgid/uid_gid/comm, strtol and strtoul to `rt`. */
export function registerMiscHelpers(rt: Runtime): void {
  const h = rt.helpers;
  h.register('csum_diff', (from, fromSize, to, toSize, seed, env) => {
    const fs = Number(fromSize & 0xffffffffn), ts = Number(toSize & 0xffffffffn);
    const f = fs ? helperPointer(env, from, fs, false) : 0;
    const t = ts ? helperPointer(env, to, ts, false) : 0;
    return csumDiff(rt.space.u8, f, fs, t, ts, Number(seed & 0xffffffffn));
  });
  h.register('get_current_pid_tgid', () => {
    const t = currentTask(rt);
    return (BigInt(t.tgid >>> 0) << 32n) | BigInt(t.pid >>> 0);
  });
  h.register('get_current_uid_gid', () => {
    const t = currentTask(rt);
    return (BigInt(t.gid >>> 0) << 32n) | BigInt(t.uid >>> 0);
  });
  h.register('get_current_comm', (buf, size, _3, _4, _5, env) => getCurrentComm(rt, buf, size, env));
  h.register('strtol', (buf, len, flags, res, _5, env) => strtol(rt, buf, len, flags, res, env, true));
  h.register('strtoul', (buf, len, flags, res, _5, env) => strtol(rt, buf, len, flags, res, env, false));
}
