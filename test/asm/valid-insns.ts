/**
 * validInsns enumerates, for every opcode byte 0..255, instructions with canonical
 * fields (unused fields zero) that checkInsn accepts, over a grid of interesting field
 * values. Shared by the round-trip and llvm-objdump comparison tests.
 */
import { Insn, Program, insn, lddw } from '../../src/core/isa/instruction.js';
import { checkInsn } from '../../src/core/isa/validate.js';
import { isCanonical } from '../../src/core/asm/canonical.js';

const IMMS = [0, 1, 16, 32, 64, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1, -1, 0x7fffffff, -0x80000000, 12345, -70000];
const OFFS = [0, 1, 8, 16, 32, -1, 32767, -32768, 300];

/** validInsns returns one program slot group (1 or 2 slots) per valid combination. */
export function validInsns(): Program[] {
  const out: Program[] = [];
  for (let code = 0; code < 256; code++) {
    const seen = new Set<string>();
    for (const imm of IMMS) {
      for (const off of OFFS) {
        for (const [dst, src] of [[1, 2], [0, 0], [0, 10], [10, 1], [9, 0], [3, 3]]) {
          const i = insn(code, dst, src, off, imm);
          if (checkInsn(i) !== null || !isCanonical(i)) continue;
          const key = JSON.stringify(i);
          if (seen.has(key)) continue;
          seen.add(key);
          out.push(code === 0x18 ? lddw(dst, (BigInt(imm) << 32n) | BigInt(off >>> 0), src) : [i]);
        }
      }
    }
  }
  return out;
}

/** opcodesOf lists the distinct opcode bytes in a set of slot groups. */
export function opcodesOf(groups: Program[]): Set<number> {
  return new Set(groups.map((g: Insn[]) => g[0].code));
}
