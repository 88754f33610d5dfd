/**
 * Errors as values with context. Every error tsbpf raises is a BpfError: a stable `code`
 * callers and tests match on, a short lowercase message, and where known the instruction
 * index, section and symbol it concerns. Phases wrap causes with a prefix ("load maps: ...").
 */

/** ErrorCode is the stable identifier of an error kind. */
export type ErrorCode =
  | 'EINVAL' // malformed input in general
  | 'E_BAD_OPCODE' // unknown or reserved opcode
  | 'E_BAD_REGISTER' // register number out of range, or write to r10
  | 'E_BAD_JUMP' // jump out of range or into the middle of lddw
  | 'E_TRUNCATED' // truncated input (lddw missing second half, short file)
  | 'E_BAD_LDDW' // malformed second half of lddw
  | 'E_NO_EXIT' // program can fall off its end
  | 'E_ASM' // assembler syntax error
  | 'E_MEM' // out-of-region memory access (checked mode)
  | 'E_UNINIT_STACK' // read of uninitialised stack (checked mode)
  | 'E_BUDGET' // instruction budget exhausted
  | 'E_CALL_DEPTH' // bpf-to-bpf call depth exceeded
  | 'E_HELPER' // unknown helper or helper failure
  | 'E_ABI' // bad call target (callx) or similar
  | 'ENOENT'
  | 'EEXIST'
  | 'E2BIG'
  | 'ENOMEM'
  | 'EPERM'
  | 'EBUSY' // map already frozen
  | 'EBADF' // not a (program) fd
  | 'ENOSPC' // batch buffer too small for one bucket
  | 'ENOTSUPP' // operation not supported by this map type (kernel errno 524)
  | 'EOPNOTSUPP' // operation not supported (errno 95: bloom filter delete/pop/get_next_key)
  | 'ENOSYS'
  | 'E_VERIFIER'
  | 'E_ELF'
  | 'E_BTF'
  | 'E_IO'
  | 'E_RELOC' // a relocation the loader cannot apply (unknown map, bad CO-RE access)
  | 'E_PIN' // a pinned object missing, unusable or incompatible
  | 'E_CLANG'; // C source could not be compiled (no clang, compile error)

/** ErrorContext is where an error happened. */
export interface ErrorContext {
  /** Instruction index (slot index, as the kernel counts) */
  insn?: number;
  /** Faulting address for memory errors */
  address?: number;
  section?: string;
  symbol?: string;
  /** 1-based source line and column (assembler, BTF line info) */
  line?: number;
  column?: number;
  file?: string;
}

/** BpfError is the one error type tsbpf throws; `code` is stable, `context` says where. */
export class BpfError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;
  /** detail is the message without the appended context */
  readonly detail: string;
  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(formatMessage(message, context), options);
    this.name = 'BpfError';
    this.code = code;
    this.context = context;
    this.detail = message;
  }

  /** withPrefix returns a copy of this error whose message starts with `prefix: `. */
  withPrefix(prefix: string): BpfError {
    return new BpfError(this.code, `${prefix}: ${this.detail}`, this.context, { cause: this.cause });
  }

  /** withContext returns a copy of this error with more context filled in (existing keys win). */
  withContext(ctx: ErrorContext): BpfError {
    return new BpfError(this.code, this.detail, { ...ctx, ...this.context }, { cause: this.cause });
  }
}

function formatMessage(message: string, ctx: ErrorContext): string {
  const parts: string[] = [];
  if (ctx.insn !== undefined) parts.push(`insn #${ctx.insn}`);
  if (ctx.address !== undefined) parts.push(`address 0x${ctx.address.toString(16)}`);
  if (ctx.section !== undefined) parts.push(`section ${ctx.section}`);
  if (ctx.symbol !== undefined) parts.push(`symbol ${ctx.symbol}`);
  if (ctx.line !== undefined) parts.push(`${ctx.file ?? 'line'}${ctx.file ? ':' : ' '}${ctx.line}${ctx.column !== undefined ? ':' + ctx.column : ''}`);
  return parts.length ? `${message} (${parts.join(', ')})` : message;
}

/** isBpfError checks an error's shape rather than its class (works across realms). */
export function isBpfError(e: unknown): e is BpfError {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'BpfError' && typeof (e as { code?: unknown }).code === 'string';
}
