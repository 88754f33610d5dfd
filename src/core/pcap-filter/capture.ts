/**
 * Capture filters for packet paths that keep frames inside larger buffers (switch port rings,
 * capture files): an expression compiled once to a JavaScript predicate over (buffer, offset,
 * length), with tcpdump's verdicts.
 */
import { compileCbpfToJsRaw } from '../cbpf/jsgen.js';
import type { CbpfProgram } from '../cbpf/opcodes.js';
import { compileFilter, type CompileOptions } from './index.js';

/** CaptureFilter tells whether the frame at buf[off .. off + len) matches (wireLen defaults to len). */
export type CaptureFilter = (buf: Uint8Array, off: number, len: number, wireLen?: number) => boolean;

/** createCaptureFilter compiles an expression (or an already compiled classic program) to a CaptureFilter. */
export function createCaptureFilter(expr: string | CbpfProgram, opts: CompileOptions = {}): CaptureFilter {
  const prog = typeof expr === 'string' ? compileFilter(expr, opts) : expr;
  const f = compileCbpfToJsRaw(prog);
  return (buf, off, len, wireLen = len) => f(buf, off, len, wireLen) !== 0;
}
