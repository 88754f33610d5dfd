/**
 * pcap-filter: a compiler from tcpdump/libpcap filter expressions (Ethernet link type) to
 * classic BPF, and from there to eBPF through the cbpf converter. Pure TypeScript, so it
 * runs in a browser.
 */
import { BpfError } from '../errors.js';
import type { CbpfProgram } from '../cbpf/opcodes.js';
import { convertCbpf } from '../cbpf/convert.js';
import type { Program } from '../isa/instruction.js';
import { LINKTYPE_ETHERNET } from '../pcap/format.js';
import { ACCEPT_SNAPLEN, generate } from './ir.js';
import { Parser } from './parser.js';

export { tokenize, filterError } from './lexer.js';
export { ACCEPT_SNAPLEN } from './ir.js';

/** CompileOptions select the link type and the accept value. */
export interface CompileOptions {
  /** link type of the packets (only LINKTYPE_ETHERNET is supported) */
  linktype?: number;
  /** value returned for accepted packets (default 262144, as tcpdump) */
  snaplen?: number;
}

/** compileFilter compiles a filter expression to a classic program; bad input is a BpfError with the column. */
export function compileFilter(expr: string, opts: CompileOptions = {}): CbpfProgram {
  const lt = opts.linktype ?? LINKTYPE_ETHERNET;
  if (lt !== LINKTYPE_ETHERNET) {
    throw new BpfError('EINVAL', `link type ${lt} is not supported by the built-in filter compiler (use --via-tcpdump)`);
  }
  return generate(new Parser(expr).parse(), opts.snaplen ?? ACCEPT_SNAPLEN);
}

/** compileFilterEbpf compiles a filter expression to eBPF (classic code converted with convertCbpf). */
export function compileFilterEbpf(expr: string, opts: CompileOptions = {}): Program {
  return convertCbpf(compileFilter(expr, opts));
}
export { createCaptureFilter, type CaptureFilter } from './capture.js';
