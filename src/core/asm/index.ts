/**
 * asm: text forms of eBPF programs. `disassemble`/`formatInsn` print llvm-objdump's BPF
 * syntax (the kernel's pseudo-C: `r0 = 1`, `if w1 s> -1 goto +3`); `assemble` reads that
 * syntax and the ubpf mnemonic syntax (`mov32 %r0, 1`, `ldxw r0, [r1+4]`), mixed freely,
 * including pasted llvm-objdump listings. assemble(disassemble(p)) reproduces p exactly.
 * See docs/asm.md for the full syntax.
 */
export { assemble, assembleDetailed } from './assemble.js';
export type { AsmResult, AsmOptions } from './assemble.js';
export { disassemble, formatInsn, slotCount } from './format.js';
export type { DisasmOptions } from './format.js';
export { isCanonical } from './canonical.js';
