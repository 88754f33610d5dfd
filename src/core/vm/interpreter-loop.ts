/**
 * The interpreter's hot loop: one switch over the pre-decoded internal opcode, registers as
 * int32 (lo, hi) pairs, memory through one DataView (little-endian, as the eBPF machine is
 * defined). This is deliberately one long function: V8 compiles the switch to a jump table and
 * keeps pc/steps/depth in machine registers, and its inlining budget would not cover helpers
 * for the common operations, so those are written out in place. Rare or slow work (64-bit
 * division, atomics, helper calls, faults) lives in interpreter-state.ts.
 *
 * `execute` is resumable: it runs until the program exits or `limit` steps have been executed
 * in total, then writes pc/steps/depth back into the state. The engine runs with
 * limit = budget; the debugger with small limits to single-step through the same code.
 */
import { BpfError, isBpfError } from '../errors.js';
import { MAX_CALL_FRAMES } from '../isa/opcodes.js';
import { PERM_R, PERM_W, STACK_SIZE } from './memory.js';
import {
  type ExecState, FRAME_WORDS, asFault, budgetExceeded, callDepthFault, callHelper, callxTarget, div32, div64,
  enterFrame, ldPacket, mul64, noExit, requireInit, slowAddress,
} from './interpreter-state.js';
import { LDABS_ABORT, setCallbackRunner } from './interpreter-state.js';
import { atomic } from './interpreter-atomic.js';

/** PAUSED: execute stopped at `limit` with the program still running. */
export const PAUSED = 0;
/** EXITED: the program finished; r0 holds the result. */
export const EXITED = 1;

const INIT4 = 0x01010101;

function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

/** execute runs `st` until exit (EXITED) or until `limit` total steps (PAUSED); faults throw BpfError. */
export function execute(st: ExecState, limit: number): number {
  const P = st.prog.code;
  const R = st.regs;
  const F = st.frames;
  const checked = st.checked;
  const space = st.ctx.space;
  const sb = st.ctx.stack.base;
  const seLast = sb + STACK_SIZE; // an access of n bytes at a is on the stack when a <= seLast - n
  const sh = st.ctx.stack.shadow - sb;
  let dv = space.dv;
  let pc = st.pc;
  let steps = st.steps;
  let depth = st.depth;
  const base = st.base;
  try {
    for (;;) {
      if (++steps > limit) {
        const err = budgetExceeded(st, pc, steps);
        if (err) throw err;
        st.pc = pc; st.steps = steps - 1; st.depth = depth;
        return PAUSED;
      }
      const b = pc << 2;
      const w = P[b];
      const d = (w >>> 12) & 0xff;
      const s = w >>> 20;
      pc++;
      switch (w & 0xfff) {
        // ---------------- ALU64 ----------------
        case 0x07: { // add imm
          const imm = P[b + 1];
          const l = (R[d] >>> 0) + (imm >>> 0);
          R[d + 1] = (R[d + 1] + (imm >> 31) + (l > 0xffffffff ? 1 : 0)) | 0;
          R[d] = l | 0;
          break;
        }
        case 0x0f: { // add reg
          const l = (R[d] >>> 0) + (R[s] >>> 0);
          R[d + 1] = (R[d + 1] + R[s + 1] + (l > 0xffffffff ? 1 : 0)) | 0;
          R[d] = l | 0;
          break;
        }
        case 0x17: { // sub imm
          const imm = P[b + 1];
          const l = (R[d] >>> 0) - (imm >>> 0);
          R[d + 1] = (R[d + 1] - (imm >> 31) - (l < 0 ? 1 : 0)) | 0;
          R[d] = l | 0;
          break;
        }
        case 0x1f: { // sub reg
          const l = (R[d] >>> 0) - (R[s] >>> 0);
          R[d + 1] = (R[d + 1] - R[s + 1] - (l < 0 ? 1 : 0)) | 0;
          R[d] = l | 0;
          break;
        }
        case 0x27: { const imm = P[b + 1]; mul64(R, d, imm, imm >> 31); break; }
        case 0x2f: mul64(R, d, R[s], R[s + 1]); break;
        case 0x37: { const imm = P[b + 1]; div64(R, d, imm, imm >> 31, false, false); break; }
        case 0x3f: div64(R, d, R[s], R[s + 1], false, false); break;
        case 0x137: { const imm = P[b + 1]; div64(R, d, imm, imm >> 31, true, false); break; }
        case 0x13f: div64(R, d, R[s], R[s + 1], true, false); break;
        case 0x97: { const imm = P[b + 1]; div64(R, d, imm, imm >> 31, false, true); break; }
        case 0x9f: div64(R, d, R[s], R[s + 1], false, true); break;
        case 0x197: { const imm = P[b + 1]; div64(R, d, imm, imm >> 31, true, true); break; }
        case 0x19f: div64(R, d, R[s], R[s + 1], true, true); break;
        case 0x47: { const imm = P[b + 1]; R[d] |= imm; R[d + 1] |= imm >> 31; break; }
        case 0x4f: R[d] |= R[s]; R[d + 1] |= R[s + 1]; break;
        case 0x57: { const imm = P[b + 1]; R[d] &= imm; R[d + 1] &= imm >> 31; break; }
        case 0x5f: R[d] &= R[s]; R[d + 1] &= R[s + 1]; break;
        case 0xa7: { const imm = P[b + 1]; R[d] ^= imm; R[d + 1] ^= imm >> 31; break; }
        case 0xaf: R[d] ^= R[s]; R[d + 1] ^= R[s + 1]; break;
        case 0x67: case 0x6f: { // lsh
          const n = (w & 8 ? R[s] : P[b + 1]) & 63;
          if (n === 0) break;
          const lo = R[d];
          if (n < 32) { R[d + 1] = (R[d + 1] << n) | (lo >>> (32 - n)); R[d] = lo << n; }
          else { R[d + 1] = lo << (n - 32); R[d] = 0; }
          break;
        }
        case 0x77: case 0x7f: { // rsh
          const n = (w & 8 ? R[s] : P[b + 1]) & 63;
          if (n === 0) break;
          const hi = R[d + 1];
          if (n < 32) { R[d] = (R[d] >>> n) | (hi << (32 - n)); R[d + 1] = hi >>> n; }
          else { R[d] = hi >>> (n - 32); R[d + 1] = 0; }
          break;
        }
        case 0xc7: case 0xcf: { // arsh
          const n = (w & 8 ? R[s] : P[b + 1]) & 63;
          if (n === 0) break;
          const hi = R[d + 1];
          if (n < 32) { R[d] = (R[d] >>> n) | (hi << (32 - n)); R[d + 1] = hi >> n; }
          else { R[d] = hi >> (n - 32); R[d + 1] = hi >> 31; }
          break;
        }
        case 0x87: { // neg
          const lo = R[d];
          R[d + 1] = (~R[d + 1] + (lo === 0 ? 1 : 0)) | 0;
          R[d] = -lo | 0;
          break;
        }
        case 0xb7: { const imm = P[b + 1]; R[d] = imm; R[d + 1] = imm >> 31; break; }
        case 0xbf: R[d] = R[s]; R[d + 1] = R[s + 1]; break;
        case 0x1bf: { const v = (R[s] << 24) >> 24; R[d] = v; R[d + 1] = v >> 31; break; }
        case 0x2bf: { const v = (R[s] << 16) >> 16; R[d] = v; R[d + 1] = v >> 31; break; }
        case 0x3bf: { const v = R[s]; R[d] = v; R[d + 1] = v >> 31; break; }
        case 0xd7: { // bswap16/32/64
          const imm = P[b + 1];
          if (imm === 16) { const x = R[d]; R[d] = ((x & 0xff) << 8) | ((x >>> 8) & 0xff); R[d + 1] = 0; }
          else if (imm === 32) { R[d] = bswap32(R[d]); R[d + 1] = 0; }
          else { const lo = R[d]; R[d] = bswap32(R[d + 1]); R[d + 1] = bswap32(lo); }
          break;
        }
        // ---------------- ALU32 (results zero-extended) ----------------
        case 0x04: R[d] = (R[d] + P[b + 1]) | 0; R[d + 1] = 0; break;
        case 0x0c: R[d] = (R[d] + R[s]) | 0; R[d + 1] = 0; break;
        case 0x14: R[d] = (R[d] - P[b + 1]) | 0; R[d + 1] = 0; break;
        case 0x1c: R[d] = (R[d] - R[s]) | 0; R[d + 1] = 0; break;
        case 0x24: R[d] = Math.imul(R[d], P[b + 1]); R[d + 1] = 0; break;
        case 0x2c: R[d] = Math.imul(R[d], R[s]); R[d + 1] = 0; break;
        case 0x34: div32(R, d, P[b + 1], false, false); break;
        case 0x3c: div32(R, d, R[s], false, false); break;
        case 0x134: div32(R, d, P[b + 1], true, false); break;
        case 0x13c: div32(R, d, R[s], true, false); break;
        case 0x94: div32(R, d, P[b + 1], false, true); break;
        case 0x9c: div32(R, d, R[s], false, true); break;
        case 0x194: div32(R, d, P[b + 1], true, true); break;
        case 0x19c: div32(R, d, R[s], true, true); break;
        case 0x44: R[d] |= P[b + 1]; R[d + 1] = 0; break;
        case 0x4c: R[d] |= R[s]; R[d + 1] = 0; break;
        case 0x54: R[d] &= P[b + 1]; R[d + 1] = 0; break;
        case 0x5c: R[d] &= R[s]; R[d + 1] = 0; break;
        case 0xa4: R[d] ^= P[b + 1]; R[d + 1] = 0; break;
        case 0xac: R[d] ^= R[s]; R[d + 1] = 0; break;
        case 0x64: R[d] <<= P[b + 1] & 31; R[d + 1] = 0; break;
        case 0x6c: R[d] <<= R[s] & 31; R[d + 1] = 0; break;
        case 0x74: R[d] = R[d] >>> (P[b + 1] & 31); R[d + 1] = 0; break;
        case 0x7c: R[d] = R[d] >>> (R[s] & 31); R[d + 1] = 0; break;
        case 0xc4: R[d] >>= P[b + 1] & 31; R[d + 1] = 0; break;
        case 0xcc: R[d] >>= R[s] & 31; R[d + 1] = 0; break;
        case 0x84: R[d] = -R[d] | 0; R[d + 1] = 0; break;
        case 0xb4: R[d] = P[b + 1]; R[d + 1] = 0; break;
        case 0xbc: R[d] = R[s]; R[d + 1] = 0; break;
        case 0x1bc: R[d] = (R[s] << 24) >> 24; R[d + 1] = 0; break;
        case 0x2bc: R[d] = (R[s] << 16) >> 16; R[d + 1] = 0; break;
        case 0xd4: { // le16/32/64: truncate (the machine is little-endian)
          const imm = P[b + 1];
          if (imm === 16) { R[d] &= 0xffff; R[d + 1] = 0; } else if (imm === 32) R[d + 1] = 0;
          break;
        }
        case 0xdc: { // be16/32/64: byte swap
          const imm = P[b + 1];
          if (imm === 16) { const x = R[d]; R[d] = ((x & 0xff) << 8) | ((x >>> 8) & 0xff); R[d + 1] = 0; }
          else if (imm === 32) { R[d] = bswap32(R[d]); R[d + 1] = 0; }
          else { const lo = R[d]; R[d] = bswap32(R[d + 1]); R[d + 1] = bswap32(lo); }
          break;
        }
        // ---------------- JMP (64-bit compares) ----------------
        case 0x05: case 0x06: pc = P[b + 3]; break; // ja, gotol
        case 0x15: { const imm = P[b + 1]; if (R[d] === imm && R[d + 1] === imm >> 31) pc = P[b + 3]; break; }
        case 0x1d: if (R[d] === R[s] && R[d + 1] === R[s + 1]) pc = P[b + 3]; break;
        case 0x55: { const imm = P[b + 1]; if (R[d] !== imm || R[d + 1] !== imm >> 31) pc = P[b + 3]; break; }
        case 0x5d: if (R[d] !== R[s] || R[d + 1] !== R[s + 1]) pc = P[b + 3]; break;
        case 0x45: { const imm = P[b + 1]; if ((R[d] & imm) !== 0 || (R[d + 1] & (imm >> 31)) !== 0) pc = P[b + 3]; break; }
        case 0x4d: if ((R[d] & R[s]) !== 0 || (R[d + 1] & R[s + 1]) !== 0) pc = P[b + 3]; break;
        case 0x25: case 0x2d: { // jgt
          const bl = w & 8 ? R[s] : P[b + 1], bh = (w & 8 ? R[s + 1] : bl >> 31) >>> 0, ah = R[d + 1] >>> 0;
          if (ah > bh || (ah === bh && (R[d] >>> 0) > (bl >>> 0))) pc = P[b + 3];
          break;
        }
        case 0x35: case 0x3d: { // jge
          const bl = w & 8 ? R[s] : P[b + 1], bh = (w & 8 ? R[s + 1] : bl >> 31) >>> 0, ah = R[d + 1] >>> 0;
          if (ah > bh || (ah === bh && (R[d] >>> 0) >= (bl >>> 0))) pc = P[b + 3];
          break;
        }
        case 0xa5: case 0xad: { // jlt
          const bl = w & 8 ? R[s] : P[b + 1], bh = (w & 8 ? R[s + 1] : bl >> 31) >>> 0, ah = R[d + 1] >>> 0;
          if (ah < bh || (ah === bh && (R[d] >>> 0) < (bl >>> 0))) pc = P[b + 3];
          break;
        }
        case 0xb5: case 0xbd: { // jle
          const bl = w & 8 ? R[s] : P[b + 1], bh = (w & 8 ? R[s + 1] : bl >> 31) >>> 0, ah = R[d + 1] >>> 0;
          if (ah < bh || (ah === bh && (R[d] >>> 0) <= (bl >>> 0))) pc = P[b + 3];
          break;
        }
        case 0x65: case 0x6d: { // jsgt
          const bl = w & 8 ? R[s] : P[b + 1], bh = w & 8 ? R[s + 1] : bl >> 31, ah = R[d + 1];
          if (ah > bh || (ah === bh && (R[d] >>> 0) > (bl >>> 0))) pc = P[b + 3];
          break;
        }
        case 0x75: case 0x7d: { // jsge
          const bl = w & 8 ? R[s] : P[b + 1], bh = w & 8 ? R[s + 1] : bl >> 31, ah = R[d + 1];
          if (ah > bh || (ah === bh && (R[d] >>> 0) >= (bl >>> 0))) pc = P[b + 3];
          break;
        }
        case 0xc5: case 0xcd: { // jslt
          const bl = w & 8 ? R[s] : P[b + 1], bh = w & 8 ? R[s + 1] : bl >> 31, ah = R[d + 1];
          if (ah < bh || (ah === bh && (R[d] >>> 0) < (bl >>> 0))) pc = P[b + 3];
          break;
        }
        case 0xd5: case 0xdd: { // jsle
          const bl = w & 8 ? R[s] : P[b + 1], bh = w & 8 ? R[s + 1] : bl >> 31, ah = R[d + 1];
          if (ah < bh || (ah === bh && (R[d] >>> 0) <= (bl >>> 0))) pc = P[b + 3];
          break;
        }
        // ---------------- JMP32 (low 32 bits) ----------------
        case 0x16: if (R[d] === P[b + 1]) pc = P[b + 3]; break;
        case 0x1e: if (R[d] === R[s]) pc = P[b + 3]; break;
        case 0x56: if (R[d] !== P[b + 1]) pc = P[b + 3]; break;
        case 0x5e: if (R[d] !== R[s]) pc = P[b + 3]; break;
        case 0x46: if ((R[d] & P[b + 1]) !== 0) pc = P[b + 3]; break;
        case 0x4e: if ((R[d] & R[s]) !== 0) pc = P[b + 3]; break;
        case 0x26: if ((R[d] >>> 0) > (P[b + 1] >>> 0)) pc = P[b + 3]; break;
        case 0x2e: if ((R[d] >>> 0) > (R[s] >>> 0)) pc = P[b + 3]; break;
        case 0x36: if ((R[d] >>> 0) >= (P[b + 1] >>> 0)) pc = P[b + 3]; break;
        case 0x3e: if ((R[d] >>> 0) >= (R[s] >>> 0)) pc = P[b + 3]; break;
        case 0xa6: if ((R[d] >>> 0) < (P[b + 1] >>> 0)) pc = P[b + 3]; break;
        case 0xae: if ((R[d] >>> 0) < (R[s] >>> 0)) pc = P[b + 3]; break;
        case 0xb6: if ((R[d] >>> 0) <= (P[b + 1] >>> 0)) pc = P[b + 3]; break;
        case 0xbe: if ((R[d] >>> 0) <= (R[s] >>> 0)) pc = P[b + 3]; break;
        case 0x66: if (R[d] > P[b + 1]) pc = P[b + 3]; break;
        case 0x6e: if (R[d] > R[s]) pc = P[b + 3]; break;
        case 0x76: if (R[d] >= P[b + 1]) pc = P[b + 3]; break;
        case 0x7e: if (R[d] >= R[s]) pc = P[b + 3]; break;
        case 0xc6: if (R[d] < P[b + 1]) pc = P[b + 3]; break;
        case 0xce: if (R[d] < R[s]) pc = P[b + 3]; break;
        case 0xd6: if (R[d] <= P[b + 1]) pc = P[b + 3]; break;
        case 0xde: if (R[d] <= R[s]) pc = P[b + 3]; break;
        // ---------------- calls and exit ----------------
        case 0x85: // helper call
          st.steps = steps; // a helper running a callback adds the callback's steps
          callHelper(st, st.prog.helpers[pc - 1], P[b + 1], pc - 1);
          steps = st.steps;
          dv = space.dv; // the helper may have grown the memory
          break;
        case 0x8d: // callx: dst holds a helper id
          st.steps = steps;
          callHelper(st, undefined, callxTarget(R[d], R[d + 1], pc - 1), pc - 1);
          steps = st.steps;
          dv = space.dv;
          break;
        case 0x185: { // bpf-to-bpf call
          if (depth + 1 >= MAX_CALL_FRAMES) throw callDepthFault(pc - 1);
          const f = depth * FRAME_WORDS;
          for (let i = 0; i < 8; i++) F[f + i] = R[12 + i];
          F[f + 8] = pc;
          depth++;
          enterFrame(st, depth);
          pc = P[b + 3];
          break;
        }
        case 0x285:
          throw callHelperKfunc(pc - 1, P[b + 1]);
        case 0x95: { // exit
          if (depth === base) {
            st.pc = pc - 1; st.steps = steps; st.depth = depth; st.done = true;
            return EXITED;
          }
          depth--;
          const f = depth * FRAME_WORDS;
          for (let i = 0; i < 8; i++) R[12 + i] = F[f + i];
          pc = F[f + 8];
          R[20] = st.ctx.stack.top(depth);
          R[21] = 0;
          break;
        }
        // ---------------- lddw and legacy packet loads ----------------
        case 0x18: R[d] = P[b + 1]; R[d + 1] = P[b + 3]; pc++; break;
        case 0x20: case 0x28: case 0x30: case 0x40: case 0x48: case 0x50: {
          const size = (w & 0x18) === 0 ? 4 : (w & 0x18) === 8 ? 2 : 1;
          const off = (w & 0x40 ? R[s] >>> 0 : 0) + P[b + 1];
          const v = ldPacket(st, off, size);
          R[1] = 0;
          if (v < 0) {
            R[0] = 0;
            st.pc = pc - 1; st.steps = steps; st.depth = depth; st.done = true; st.ldAbsMiss = true;
            return EXITED;
          }
          R[0] = v | 0;
          break;
        }
        // ---------------- LDX ----------------
        case 0x61: case 0x81: { // ldxw, ldxsw
          let a = (R[s] >>> 0) + P[b + 2];
          if (checked) {
            if (R[s + 1] !== 0 || a < sb || a > seLast - 4) a = slowAddress(st, R[s], R[s + 1], P[b + 2], 4, PERM_R, pc - 1);
            else if (dv.getInt32(a + sh, true) !== INIT4) requireInit(st, a, 4, pc - 1);
          } else a >>>= 0;
          const v = dv.getInt32(a, true);
          R[d] = v; R[d + 1] = w & 0x80 ? v >> 31 : 0;
          break;
        }
        case 0x69: case 0x89: { // ldxh, ldxsh
          let a = (R[s] >>> 0) + P[b + 2];
          if (checked) {
            if (R[s + 1] !== 0 || a < sb || a > seLast - 2) a = slowAddress(st, R[s], R[s + 1], P[b + 2], 2, PERM_R, pc - 1);
            else if (dv.getUint16(a + sh, true) !== 0x0101) requireInit(st, a, 2, pc - 1);
          } else a >>>= 0;
          if (w & 0x80) { const v = dv.getInt16(a, true); R[d] = v; R[d + 1] = v >> 31; }
          else { R[d] = dv.getUint16(a, true); R[d + 1] = 0; }
          break;
        }
        case 0x71: case 0x91: { // ldxb, ldxsb
          let a = (R[s] >>> 0) + P[b + 2];
          if (checked) {
            if (R[s + 1] !== 0 || a < sb || a > seLast - 1) a = slowAddress(st, R[s], R[s + 1], P[b + 2], 1, PERM_R, pc - 1);
            else if (dv.getUint8(a + sh) !== 1) requireInit(st, a, 1, pc - 1);
          } else a >>>= 0;
          if (w & 0x80) { const v = dv.getInt8(a); R[d] = v; R[d + 1] = v >> 31; }
          else { R[d] = dv.getUint8(a); R[d + 1] = 0; }
          break;
        }
        case 0x79: { // ldxdw
          let a = (R[s] >>> 0) + P[b + 2];
          if (checked) {
            if (R[s + 1] !== 0 || a < sb || a > seLast - 8) a = slowAddress(st, R[s], R[s + 1], P[b + 2], 8, PERM_R, pc - 1);
            else if (dv.getInt32(a + sh, true) !== INIT4 || dv.getInt32(a + sh + 4, true) !== INIT4) requireInit(st, a, 8, pc - 1);
          } else a >>>= 0;
          const lo = dv.getInt32(a, true);
          R[d + 1] = dv.getInt32(a + 4, true);
          R[d] = lo;
          break;
        }
        // ---------------- ST / STX ----------------
        case 0x62: case 0x63: { // stw, stxw
          let a = (R[d] >>> 0) + P[b + 2];
          if (checked) {
            if (R[d + 1] !== 0 || a < sb || a > seLast - 4) a = slowAddress(st, R[d], R[d + 1], P[b + 2], 4, PERM_W, pc - 1);
            else dv.setInt32(a + sh, INIT4, true);
          } else a >>>= 0;
          dv.setInt32(a, w & 1 ? R[s] : P[b + 1], true);
          break;
        }
        case 0x6a: case 0x6b: { // sth, stxh
          let a = (R[d] >>> 0) + P[b + 2];
          if (checked) {
            if (R[d + 1] !== 0 || a < sb || a > seLast - 2) a = slowAddress(st, R[d], R[d + 1], P[b + 2], 2, PERM_W, pc - 1);
            else dv.setUint16(a + sh, 0x0101, true);
          } else a >>>= 0;
          dv.setInt16(a, w & 1 ? R[s] : P[b + 1], true);
          break;
        }
        case 0x72: case 0x73: { // stb, stxb
          let a = (R[d] >>> 0) + P[b + 2];
          if (checked) {
            if (R[d + 1] !== 0 || a < sb || a > seLast - 1) a = slowAddress(st, R[d], R[d + 1], P[b + 2], 1, PERM_W, pc - 1);
            else dv.setUint8(a + sh, 1);
          } else a >>>= 0;
          dv.setInt8(a, w & 1 ? R[s] : P[b + 1]);
          break;
        }
        case 0x7a: case 0x7b: { // stdw, stxdw
          let a = (R[d] >>> 0) + P[b + 2];
          if (checked) {
            if (R[d + 1] !== 0 || a < sb || a > seLast - 8) a = slowAddress(st, R[d], R[d + 1], P[b + 2], 8, PERM_W, pc - 1);
            else { dv.setInt32(a + sh, INIT4, true); dv.setInt32(a + sh + 4, INIT4, true); }
          } else a >>>= 0;
          // high half first: a store that runs off the end of memory then writes nothing (as Wasm)
          if (w & 1) { dv.setInt32(a + 4, R[s + 1], true); dv.setInt32(a, R[s], true); }
          else { const imm = P[b + 1]; dv.setInt32(a + 4, imm >> 31, true); dv.setInt32(a, imm, true); }
          break;
        }
        case 0xc3: atomic(st, pc - 1, d, s, P[b + 2], P[b + 1], false); break;
        case 0xdb: atomic(st, pc - 1, d, s, P[b + 2], P[b + 1], true); break;
        case 0:
          // the sentinel after the last slot (budgetExceeded reports it when the limit is hit here)
          throw noExit(st);
        default:
          throw unreachable(pc - 1, w & 0xfff);
      }
    }
  } catch (e) {
    if (e === LDABS_ABORT) { // a callback's LD_ABS miss: this run ends too, returning 0
      R[0] = 0; R[1] = 0;
      st.pc = pc - 1; st.steps = steps; st.depth = depth; st.done = true; st.ldAbsMiss = true;
      return EXITED;
    }
    // the fault's own insn is authoritative (a budget fault is raised before pc advances)
    st.pc = isBpfError(e) && e.context.insn !== undefined ? e.context.insn : pc - 1;
    st.steps = steps; st.depth = depth; st.done = true;
    throw asFault(e, pc - 1);
  }
}

// helpers with callbacks (bpf_loop ...) run the callback's frame with this loop
setCallbackRunner(execute);

function callHelperKfunc(insn: number, id: number): BpfError {
  return new BpfError('E_HELPER', `kfunc calls are not supported (btf id ${id})`, { insn });
}

function unreachable(insn: number, iop: number): BpfError {
  return new BpfError('E_BAD_OPCODE', `internal: undecoded opcode 0x${iop.toString(16)}`, { insn });
}
