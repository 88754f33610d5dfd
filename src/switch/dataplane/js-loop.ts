/**
 * The JavaScript batch loop: for each frame of a port's RX batch, fill the context, run the
 * loaded program (`LoadedProgram.run`), check where the program left the frame, dispatch.
 * A fault (E_MEM, E_BUDGET ...) drops that frame with reason "fault"; the batch goes on.
 */
import { isBpfError } from '../../core/errors.js';
import { CTR, SW_EGRESS, SW_REDIRECT, SW_REDIRECT_FLAGS } from './layout.js';
import { dispatch, drop } from './dispatch.js';
import type { SwitchPort } from './port.js';
import type { Switch } from './switch.js';

/** processBatchJs runs one RX batch of `port`; returns the number of frames taken. */
export function processBatchJs(sw: Switch, port: SwitchPort): number {
  const n = port.rx.peek(sw.batch);
  if (n === 0) return 0;
  const head = port.rx.head;
  for (let k = 0; k < n; k++) {
    const s = port.rx.slotAddr(head, k) >>> 2;
    const u32 = sw.views.refresh().u32;
    runFrame(sw, port, u32[s], u32[s + 1]);
  }
  port.rx.release(n);
  return n;
}

/** runFrame runs the program on one frame and dispatches it. */
export function runFrame(sw: Switch, port: SwitchPort, addr: number, len: number): void {
  const fc = sw.frame;
  let u32 = sw.views.u32;
  port.count(CTR.rx_packets);
  port.count(CTR.rx_bytes, len);
  fc.set(u32, sw.kind, addr, len, port.index, port.ifindex);
  u32[(sw.state + SW_REDIRECT) >>> 2] = 0;
  u32[(sw.state + SW_EGRESS) >>> 2] = 0;
  let r0: number;
  try {
    r0 = Number(sw.loaded!.run(fc.opts).r0 & 0xffffffffn);
  } catch (e) {
    return faultFrame(sw, port, addr, e);
  }
  u32 = sw.views.refresh().u32;
  finishFrame(sw, port, addr, fc.dataOf(u32), fc.endOf(u32, sw.kind), r0, u32[(sw.state + SW_REDIRECT) >>> 2],
    u32[(sw.state + SW_REDIRECT_FLAGS) >>> 2], u32[(sw.state + SW_EGRESS) >>> 2]);
}

/**
 * finishFrame checks where the program left the frame ([data, end) must be inside the frame
 * buffer of `addr`) and dispatches verdict `r0` with redirect target `target` and `flags`.
 */
export function finishFrame(sw: Switch, port: SwitchPort, addr: number, data: number, end: number, r0: number, target: number,
  flags: number, egress = 0): void {
  if (!sameFrame(sw, addr, data, end)) {
    sw.traceEvent({ port: port.index, reason: 'bad_frame', r0 });
    return drop(sw, port, addr, CTR.drop_bad_frame);
  }
  sw.views.u32[(sw.state + SW_REDIRECT) >>> 2] = target;
  sw.views.u32[(sw.state + SW_REDIRECT_FLAGS) >>> 2] = flags;
  sw.views.u32[(sw.state + SW_EGRESS) >>> 2] = egress;
  dispatch(sw, port, data, end - data, r0);
}

/** faultFrame drops a frame whose run threw, tracing the error. */
export function faultFrame(sw: Switch, port: SwitchPort, addr: number, e: unknown): void {
  sw.views.refresh();
  const err = isBpfError(e) ? e : null;
  sw.traceEvent({ port: port.index, reason: 'fault', code: err?.code ?? 'internal', message: (e as Error)?.message ?? String(e),
    insn: err?.context.insn });
  drop(sw, port, addr, CTR.drop_fault);
}

/** sameFrame tells whether [data, end) is a non-empty range inside the frame buffer of `addr`. */
function sameFrame(sw: Switch, addr: number, data: number, end: number): boolean {
  if (end <= data || !sw.pool.contains(data, end - data)) return false;
  return sw.pool.indexOf(data) === sw.pool.indexOf(addr);
}
