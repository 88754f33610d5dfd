/**
 * The in-program side of the map benchmark: eBPF programs (assembler text, the same for the
 * kernel and tsbpf) that loop LOOP times over map operations on keys spread over the map,
 * so BPF_PROG_TEST_RUN's duration / LOOP and our JIT's run time / LOOP are ns per operation.
 */
import { assemble } from '../../core/asm/assemble.js';
import type { Program } from '../../core/isa/instruction.js';

/** LOOP is the number of map operations per program run. */
export const LOOP = 1024;

/** KeyShape says how a loop index becomes a key on the stack at r10 - 32. */
export interface KeyShape {
  keySize: number;
  valueSize: number;
  /** LPM trie keys: { prefixlen = 8 * (keySize - 4); data ends with the big-endian index } */
  lpm: boolean;
}

/** zero fills [r10 - off, r10 - off + len) with 8-byte stores of r9 (0). */
function zero(off: number, len: number): string {
  const out: string[] = [];
  for (let k = 0; k < len; k += 8) out.push(`*(u64 *)(r10 - ${off - k}) = r9`);
  return out.join('\n');
}

/** keyCode stores the key of index r7 at r10 - 32 (the rest of the key was zeroed). */
function keyCode(s: KeyShape): string {
  if (!s.lpm) return '*(u32 *)(r10 - 32) = r7';
  return `r1 = r7\nr1 = be32 r1\n*(u32 *)(r10 - ${32 - (s.keySize - 4)}) = r1`;
}

function prologue(s: KeyShape): string {
  const lpmLen = s.lpm ? `r1 = ${8 * (s.keySize - 4)}\n*(u32 *)(r10 - 32) = r1` : '';
  // key at r10 - 32 (up to 24 bytes), value at r10 - 128 (up to 64 bytes)
  return `r9 = 0\n${zero(32, 24)}\n${zero(128, 64)}\n${lpmLen}\nr6 = 0`;
}

function call(fd: number, helper: number, withValue: boolean): string {
  const v = withValue ? 'r3 = r10\nr3 += -128\nr4 = 0\n' : '';
  return `ld_pseudo r1, 1, ${fd}\nr2 = r10\nr2 += -32\n${v}call ${helper}`;
}

/**
 * mapLoopProgram: LOOP times, key index r7 = (i * 40503) mod 65536 (a permutation of the
 * keys), then `op`: lookup (and read the first byte of a found value), update (BPF_ANY), or
 * delete + update of the same key (the delete row subtracts the update row).
 */
export function mapLoopProgram(fd: number, s: KeyShape, op: 'lookup' | 'update' | 'delupd'): Program {
  const body = op === 'lookup'
    ? `${call(fd, 1, false)}\nif r0 == 0 goto next\nr1 = *(u8 *)(r0 + 0)`
    : op === 'update' ? call(fd, 2, true) : `${call(fd, 3, false)}\n${call(fd, 2, true)}`;
  return assemble(`${prologue(s)}
loop:
  r7 = r6
  r7 *= 40503
  r7 &= 65535
  ${keyCode(s)}
  ${body}
next:
  r6 += 1
  if r6 < ${LOOP} goto loop
  r0 = 2
  exit`);
}
