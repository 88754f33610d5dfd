/**
 * isa: the eBPF instruction set of RFC 9669. Opcode constants with kernel names, the
 * 8-byte slot form (`Insn`), encode/decode in both byte orders, and structural validation.
 */
export * from './opcodes.js';
export * from './instruction.js';
export * from './validate.js';
