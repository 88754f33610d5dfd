/**
 * Batch filtering of classic pcap files inside WebAssembly: the classic program is converted
 * to eBPF and JIT-compiled (trusted mode: the converted code bounds-checks every packet load
 * itself), and a generated record loop (batch-wasm.ts) calls its Wasm function for each
 * record of a window of the file held in the same address space. JavaScript only moves
 * windows in and selected records out, so the per-packet cost is the program's own.
 */
import { BpfError } from '../errors.js';
import type { CbpfProgram } from '../cbpf/opcodes.js';
import { convertCbpf } from '../cbpf/convert.js';
import { loadJit, jitError, type JitProgram } from '../jit/index.js';
import { CONTROL_BLOCK, jitEntry } from '../jit/embed.js';
import type { VmContext } from '../vm/engine.js';
import { createVmContext } from '../vm/context.js';
import { AddressSpace } from '../vm/memory.js';
import { MAX_PACKET_LEN } from '../pcap/format.js';
import { corrupt } from '../pcap/read.js';
import { buildScanModule, SCAN_COMPACT, SCAN_LIST } from './batch-wasm.js';

export { SCAN_COMPACT, SCAN_LIST } from './batch-wasm.js';

type ScanFn = (p: number, n: number, flags: number) => number;

/** BatchFilterOptions describe the file the filter will scan. */
export interface BatchFilterOptions {
  /** byte order of the file's record headers */
  littleEndian: boolean;
  /** address space to use (a fresh one by default) */
  space?: AddressSpace;
}

/**
 * PcapBatchFilter is a classic program compiled for batch runs over classic pcap records
 * placed in its address space (`ctx.space`; place them with `window`).
 */
export class PcapBatchFilter {
  readonly ctx: VmContext;
  readonly prog: JitProgram;
  private readonly scanFn: ScanFn;
  private readonly g: Record<'dst' | 'list' | 'index' | 'count', WebAssembly.Global>;
  private win: ScanWindow = { addr: 0, cap: 0, list: 0 };

  constructor(cbpf: CbpfProgram, opts: BatchFilterOptions) {
    this.ctx = createVmContext({ space: opts.space ?? new AddressSpace({ initialBytes: 1 << 20 }) });
    this.prog = loadJit(convertCbpf(cbpf), this.ctx, { checked: false, countBudget: false });
    // the JIT's stable embedding API: entry(budget) reads r1..r5 from the control block, writes r0 there
    const je = jitEntry(this.prog);
    if (!je) throw new BpfError('EINVAL', 'the JIT module has no entry() export');
    const entry = je.entry;
    const bytes = buildScanModule({
      littleEndian: opts.littleEndian, maxLen: MAX_PACKET_LEN, cb: je.control.cb,
      cbArgs: CONTROL_BLOCK.args, cbR0: CONTROL_BLOCK.r0, shared: this.ctx.space.shared,
    });
    const env = { memory: this.ctx.space.memory, prog: entry };
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { env } as WebAssembly.Imports);
    this.scanFn = inst.exports.scan as unknown as ScanFn;
    const x = inst.exports as Record<string, WebAssembly.Global>;
    this.g = { dst: x.dst, list: x.list, index: x.index, count: x.count };
  }

  /**
   * window returns the address of a buffer of at least `cap` bytes for records (reused while
   * big enough), with a list area after it for SCAN_LIST (see allocWindow).
   */
  window(cap: number): number {
    if (cap > this.win.cap) this.win = allocWindow(this.ctx.space, cap);
    return this.win.addr;
  }

  /** useWindow makes a window allocated with allocWindow (in this filter's space) the current one. */
  useWindow(win: ScanWindow): void {
    this.win = win;
  }

  /** listAddr is the address of the list area of the current window. */
  get listAddr(): number {
    return this.win.list;
  }

  /** records is how many records the scans so far have filtered; selected how many matched. */
  get records(): number {
    return this.g.index.value as number;
  }
  get selected(): number {
    return this.g.count.value as number;
  }

  /**
   * scan filters the records in [p, n) of the address space. With SCAN_COMPACT the selected
   * records are moved, in order, to `dst` onwards (dst <= p; the result's `dst` is the end);
   * with SCAN_LIST, (record address, record number) u32 pairs go to the list area (the
   * result's `list` is its end). `stop` is as the Wasm scan returns it (see buildScanModule).
   */
  scan(p: number, n: number, flags: number, dst = p): { stop: number; dst: number; list: number } {
    this.g.dst.value = dst;
    this.g.list.value = this.win.list;
    let stop: number;
    try {
      stop = this.scanFn(p, n, flags);
    } catch (e) {
      throw jitError(this.prog, e);
    }
    return { stop, dst: this.g.dst.value as number, list: this.g.list.value as number };
  }
}

/** ScanWindow is a record buffer of `cap` bytes at `addr` and its list area at `list`. */
export interface ScanWindow {
  addr: number;
  cap: number;
  list: number;
}

/** allocWindow allocates a window of `cap` bytes and a list area after it (8 bytes per possible record). */
export function allocWindow(space: AddressSpace, cap: number): ScanWindow {
  const addr = space.alloc(cap + (cap >>> 1) + 24, 65536);
  return { addr, cap, list: (addr + cap + 15) & ~7 };
}

/** BatchSelection is the result of filterPcapRecords. */
export interface BatchSelection {
  /** byte offsets (in the input) of the selected records, and their 1-based record numbers */
  offsets: number[];
  numbers: number[];
  /** where the records ended: bytes.length, or the offset of an incomplete last record */
  stop: number;
}

/**
 * filterPcapRecords runs `cbpf` over the records of bytes[from..] (classic pcap records of the
 * given byte order), copying them into the filter's address space in one piece. A record with
 * an implausible length is an EINVAL error with its offset.
 */
export function filterPcapRecords(cbpf: CbpfProgram | PcapBatchFilter, bytes: Uint8Array, from: number,
  littleEndian: boolean): BatchSelection {
  const f = cbpf instanceof PcapBatchFilter ? cbpf : new PcapBatchFilter(cbpf, { littleEndian });
  const len = bytes.length - from;
  const win = f.window(Math.max(len, 16));
  f.ctx.space.u8.set(bytes.subarray(from), win);
  const before = f.records;
  const r = f.scan(win, win + len, SCAN_LIST);
  if (r.stop < 0) throw implausible(-1 - r.stop - win + from);
  const u32 = new Uint32Array(f.ctx.space.memory.buffer, f.listAddr, (r.list - f.listAddr) >>> 2);
  const offsets: number[] = [], numbers: number[] = [];
  for (let k = 0; k < u32.length; k += 2) {
    offsets.push(u32[k] - win + from);
    numbers.push(u32[k + 1] - before);
  }
  return { offsets, numbers, stop: r.stop - win + from };
}

/** implausible is the error for a record length beyond MAX_PACKET_LEN at file offset `at`. */
export function implausible(at: number): BpfError {
  return corrupt('implausible record length', at);
}
