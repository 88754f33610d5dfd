/**
 * Rejection codes: every reason the verifier refuses a program has a stable code (tests and
 * tools match on it) and a kernel-like message. VerifierError is the BpfError('E_VERIFIER')
 * the verifier throws, carrying the code, the instruction, the message and the log.
 */
import { BpfError } from '../errors.js';

/** REJECT_CODES describes every rejection code. */
export const REJECT_CODES = {
  INVALID_INSN: 'malformed instruction (opcode, register, reserved field, lddw pair)',
  BAD_JUMP: 'jump out of range, into the middle of lddw, or across subprograms',
  NO_EXIT: 'the program or a subprogram can run past its last instruction',
  UNREACHABLE: 'an instruction no path reaches',
  RECURSIVE_CALL: 'a bpf-to-bpf call cycle',
  CALL_DEPTH: 'more than 8 nested call frames',
  STACK_TOO_LARGE: 'combined stack of a call chain above 512 bytes',
  UNSUPPORTED: 'an instruction or feature this verifier does not support (kfuncs, callx, BTF ids)',
  UNINIT_REG: 'read of a register that was never written (R%d !read_ok)',
  INVALID_MEM_ACCESS: "dereference of a non-pointer (R%d invalid mem access 'scalar')",
  NULL_POINTER: 'dereference of a pointer that may be NULL (not null-checked)',
  STACK_OUT_OF_BOUNDS: 'stack access outside [-512, 0) of the frame',
  UNINIT_STACK: 'read of stack bytes that were never written',
  MISALIGNED_STACK: 'stack access not aligned to its size (the kernel is strict about stack alignment)',
  INVALID_FILL: 'partial or misaligned read or write of a spilled pointer',
  CTX_ACCESS: 'access to a context field that does not exist, has another size, or is read-only',
  MODIFIED_CTX: 'dereference of a context pointer with an offset',
  MAP_VALUE_OUT_OF_BOUNDS: 'access outside the map value',
  MEM_OUT_OF_BOUNDS: 'access outside a memory region (ring-buffer record, raw data)',
  PKT_OUT_OF_BOUNDS: 'packet access not proven inside [data, data_end)',
  PKT_ACCESS: 'direct packet access not allowed here (program type, read-only)',
  NEGATIVE_MIN: 'a variable offset whose minimum may be negative',
  UNBOUNDED_MEM_ACCESS: 'a variable offset or size without an upper bound',
  PTR_ARITH: 'pointer arithmetic that is not allowed (32-bit, bitwise, on this pointer type)',
  PTR_ARITH_NULL: 'pointer arithmetic on a pointer that may be NULL',
  PTR_OUT_OF_RANGE: 'pointer arithmetic with a value that may move the pointer out of bounds',
  INVALID_SHIFT: 'shift by a constant out of range',
  DIV_BY_ZERO: 'division or modulo by the constant 0',
  BAD_MAP_FD: 'lddw of a map fd the map lookup does not know',
  UNKNOWN_HELPER: 'call of a helper the verifier has no prototype for',
  HELPER_NOT_ALLOWED: 'helper not available for this program type',
  HELPER_ARG: 'helper argument of the wrong type',
  HELPER_SIZE: 'helper memory size argument unbounded, zero, negative or not constant',
  HELPER_MAP: 'map type not accepted by this helper (or helper not accepted by this map)',
  UNRELEASED_REFERENCE: 'an acquired reference (ring-buffer record) is neither submitted nor discarded on some path',
  RELEASE_INVALID: 'release of something that is not an acquired reference',
  LOCK: 'spin lock misuse (missing unlock, calls while locked, unlock without lock)',
  RET_NOT_SCALAR: 'R0 at program exit is not a scalar (or not initialised)',
  RET_STACK_PTR: 'a subprogram returns a pointer to its own stack',
  CALLBACK_RET: 'callback return value out of [0, 1]',
  INFINITE_LOOP: 'a loop that comes back to the same state (infinite loop detected)',
  TOO_COMPLEX: 'the 1,000,000 processed-instruction limit was reached (unbounded or too long loop)',
  LD_ABS: 'LD_ABS/LD_IND in a program type without skb, or with r6 not the context',
  INVALID_ATOMIC: 'atomic operation on memory that does not allow it',
  STACK_PTR_SPILL: "a pointer to the stack stored into the caller's stack frame",
} as const;

/** RejectCode is a stable rejection code. */
export type RejectCode = keyof typeof REJECT_CODES;

/** Reject is thrown inside the analysis; verify() turns it into a VerifierError. */
export class Reject extends Error {
  constructor(readonly reason: RejectCode, message: string, readonly pc?: number) {
    super(message);
  }
}

/** reject throws a Reject (for use in expressions). */
export function reject(reason: RejectCode, message: string, pc?: number): never {
  throw new Reject(reason, message, pc);
}

/** VerifierError is a rejected program: BpfError('E_VERIFIER') with the code, message, instruction and log. */
export class VerifierError extends BpfError {
  constructor(
    /** reason is the stable rejection code, e.g. 'INVALID_MEM_ACCESS' */
    readonly reason: RejectCode,
    /** kernelMessage is the kernel-like message alone, e.g. "R1 invalid mem access 'scalar'" */
    readonly kernelMessage: string,
    insn: number | undefined,
    disasm: string,
    /** log is the verifier log at the requested level (empty at level 0) */
    readonly log: string,
  ) {
    super('E_VERIFIER', disasm ? `${kernelMessage} at \`${disasm}\`` : kernelMessage, insn === undefined ? {} : { insn });
  }
}
