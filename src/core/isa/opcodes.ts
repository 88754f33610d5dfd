/**
 * Opcode constants with the kernel's names (include/uapi/linux/bpf_common.h and bpf.h),
 * as RFC 9669 defines them. An opcode byte is class | (op or size|mode) | source.
 */

// Instruction classes (low 3 bits)
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

// Sizes for load/store classes
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

// Modes for load/store classes
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

// Source operand for ALU/JMP
export const BPF_K = 0x00;
export const BPF_X = 0x08;

// ALU operations
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;

// Byte-swap direction (source bit of BPF_END)
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

// Jump operations
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;

// Atomic operations (imm field of BPF_STX | BPF_ATOMIC)
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;

// lddw pseudo sources (src_reg of BPF_LD | BPF_IMM | BPF_DW)
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4;
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

// call sources (src_reg of BPF_JMP | BPF_CALL)
export const BPF_PSEUDO_CALL = 1;
export const BPF_PSEUDO_KFUNC_CALL = 2;

/** BPF_CLASS extracts the instruction class. */
export const BPF_CLASS = (code: number): number => code & 0x07;
/** BPF_SIZE extracts the size of a load/store. */
export const BPF_SIZE = (code: number): number => code & 0x18;
/** BPF_MODE extracts the mode of a load/store. */
export const BPF_MODE = (code: number): number => code & 0xe0;
/** BPF_OP extracts the operation of an ALU/JMP instruction. */
export const BPF_OP = (code: number): number => code & 0xf0;
/** BPF_SRC extracts the source bit of an ALU/JMP instruction. */
export const BPF_SRC = (code: number): number => code & 0x08;

/** Register numbers. R10 is the read-only frame pointer. */
export const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;

/** STACK_FRAME_SIZE is the stack each frame gets, as in Linux. */
export const STACK_FRAME_SIZE = 512;
/** MAX_CALL_FRAMES is the deepest bpf-to-bpf call chain, counting the main frame. */
export const MAX_CALL_FRAMES = 8;

/** sizeBytes converts a BPF_SIZE value to a byte count. */
export function sizeBytes(size: number): 1 | 2 | 4 | 8 {
  switch (size) {
    case BPF_B: return 1;
    case BPF_H: return 2;
    case BPF_W: return 4;
    default: return 8;
  }
}
