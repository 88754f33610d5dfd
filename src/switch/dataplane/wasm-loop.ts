/**
 * WasmDataplane: runs a port's RX batch in the generated WebAssembly loop (wasm-gen.ts). One
 * JavaScript call per batch; the program is the JIT's own Wasm function, imported by the
 * dataplane module, so a frame's program call, context setup and enqueue never cross into
 * JavaScript (helpers the program calls still do, through the JIT's helper imports).
 * A fault unwinds out of the loop: the frame under the cursor is dropped with reason "fault"
 * and the loop resumes after it.
 */
import { BpfError } from '../../core/errors.js';
import { isLdAbsExit, jitEntry, type JitControl, type JitEntry } from '../../core/jit/embed.js';
import { DEFAULT_BUDGET } from '../../core/vm/engine.js';
import { PERM_RW, type Region } from '../../core/vm/memory.js';
import { BPF_ABS, BPF_IND, BPF_LD } from '../../core/isa/opcodes.js';
import { PUNT_EGRESS, PUNT_ADDR, PUNT_DATA, PUNT_END, PUNT_FLAGS, PUNT_R0, PUNT_SIZE, PUNT_TARGET, SW_CURSOR, SW_IFTABLE, SW_NPUNT, SW_PORTS, SW_PUNTS } from './layout.js';
import { buildDataplane } from './wasm-gen.js';
import { faultFrame, finishFrame } from './js-loop.js';
import type { SwitchPort } from './port.js';
import type { Switch } from './switch.js';

type BatchFn = (port: number, start: number, n: number) => number;

/** WasmDataplane is the generated loop bound to one switch and one loaded JIT program. */
export class WasmDataplane {
  private readonly batchFn: BatchFn;
  private readonly rt: JitControl;
  private readonly prog: JitEntry;
  /** the run's regions: the context, then the whole pool as the packet (for helpers' checks), then the runtime's */
  private readonly frame: { regions: readonly Region[]; pktStart: number; pktLen: number };

  constructor(private readonly sw: Switch) {
    const prog = jitEntry(sw.loaded);
    if (!prog) throw new BpfError('EINVAL', 'the WebAssembly dataplane needs a program loaded by the JIT engine');
    this.prog = prog;
    this.rt = prog.control;
    const dv = sw.space.dv;
    const bytes = buildDataplane({
      shared: sw.space.shared, kind: sw.kind, nports: sw.ports.length, state: sw.state, md: sw.frame.md,
      pool: sw.pool.addr, poolBase: sw.pool.base, frameShift: sw.pool.shift,
      iftable: dv.getUint32(sw.state + SW_IFTABLE, true), ports: dv.getUint32(sw.state + SW_PORTS, true),
      punts: dv.getUint32(sw.state + SW_PUNTS, true), flood: sw.flood, cb: this.rt.cb, checked: this.prog.checked,
      budget: this.prog.counting ? Math.min(sw.frame.opts.budget ?? DEFAULT_BUDGET, 2 ** 62) : 0,
      ldAbs: sw.loaded!.insns.some((i) => (i.code & 0x07) === BPF_LD && ((i.code & 0xe0) === BPF_ABS || (i.code & 0xe0) === BPF_IND)),
    });
    const env: Record<string, unknown> = { memory: sw.space.memory, prog: prog.entry };
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { env } as WebAssembly.Imports);
    this.batchFn = inst.exports.batch as unknown as BatchFn;
    // The JIT's control block names the context and (for helpers' checks) the whole pool as
    // the packet region; the loop narrows the packet region to each frame for the program.
    const pool = { start: sw.pool.base, end: sw.pool.base + sw.pool.count * sw.pool.frameSize, perm: PERM_RW, name: 'packet' };
    const regions = sw.frame.opts.regions!;
    this.frame = { regions: [regions[0], pool, ...regions.slice(2)], pktStart: 0, pktLen: -1 };
  }

  /** processBatch runs one RX batch of `port` in WebAssembly; returns the number of frames taken. */
  processBatch(port: SwitchPort): number {
    const n = port.rx.peek(this.sw.batch);
    if (n === 0) return 0;
    const sw = this.sw;
    this.rt.enter(this.frame);
    const u32 = sw.views.refresh().u32;
    u32[(sw.state + SW_NPUNT) >>> 2] = 0;
    const head = port.rx.head;
    let start = 0;
    try {
      while (start < n) {
        try {
          this.batchFn(port.index, start, n);
          start = n;
        } catch (e) {
          start = this.fault(port, head, e) + 1;
        }
      }
    } finally {
      this.rt.leave();
    }
    this.punts(port);
    port.rx.release(n);
    return n;
  }

  /** fault handles the frame under the cursor after an exception; returns its batch index. */
  private fault(port: SwitchPort, head: number, e: unknown): number {
    const sw = this.sw;
    const u32 = sw.views.refresh().u32;
    const k = u32[(sw.state + SW_CURSOR) >>> 2];
    const s = port.rx.slotAddr(head, k) >>> 2;
    const addr = u32[s];
    if (isLdAbsExit(e)) {
      // an LD_ABS miss in a subprogram ends the run returning 0 (XDP_ABORTED)
      const len = u32[s + 1];
      finishFrame(sw, port, addr, addr, addr + len, 0, 0, 0);
    } else {
      faultFrame(sw, port, addr, e instanceof WebAssembly.RuntimeError
        ? new BpfError('E_MEM', `memory access out of bounds (${e.message})`, {}, { cause: e }) : e);
    }
    return k;
  }

  /** punts dispatches the frames the loop left to JavaScript. */
  private punts(port: SwitchPort): void {
    const sw = this.sw;
    const u32 = sw.views.refresh().u32;
    const count = u32[(sw.state + SW_NPUNT) >>> 2];
    const base = u32[(sw.state + SW_PUNTS) >>> 2];
    for (let i = 0; i < count; i++) {
      const e = (base + i * PUNT_SIZE) >>> 2;
      const v = sw.views.u32;
      finishFrame(sw, port, v[e + PUNT_ADDR / 4], v[e + PUNT_DATA / 4], v[e + PUNT_END / 4], v[e + PUNT_R0 / 4], v[e + PUNT_TARGET / 4],
        v[e + PUNT_FLAGS / 4], v[e + PUNT_EGRESS / 4]);
    }
  }
}
