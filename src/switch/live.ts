/**
 * The live loop: runs a switch against real ports until stopped. Each round polls every
 * driver (frames onto RX rings), steps the switch until the rings are empty, flushes every
 * driver (TX rings out), and empties TX rings of ports without a driver (counted, freed).
 * Between rounds it yields to the event loop (setImmediate when busy, a 1 ms timer when
 * idle) so sockets, timers and the control socket keep working in the same thread. Program
 * swaps requested while running take effect between two rounds, when no frame is in flight.
 */
import type { SwitchProgram } from './program.js';
import type { Switch } from './dataplane/switch.js';
import type { PortDriver } from './ports/driver.js';
import type { PortStats } from './dataplane/port.js';
import type { TraceEvent } from './dataplane/dispatch.js';

/** SwitchStatus is what `tsbpf switch stats` shows of a running switch. */
export interface SwitchStatus {
  program: { name: string; kind: string } | null;
  ports: Array<PortStats & { port: number; name: string; ifindex: number }>;
  trace: TraceEvent[];
  rounds: number;
}

/** LiveLoop is the round-and-yield loop shared by the single-thread and the multi-worker live switch. */
export abstract class LiveLoop {
  private running = false;
  private done: Promise<void> | null = null;
  /** rounds counts loop iterations (for tests and stats) */
  rounds = 0;

  constructor(readonly drivers: PortDriver[]) {}

  /** round does one pass; returns the frames it moved. */
  abstract round(): number;
  /** swap replaces the program; resolves once the new program runs. */
  abstract swap(prog: SwitchProgram): Promise<void>;
  /** status reports the program, the per-port counters and recent trace events. */
  abstract status(): SwitchStatus;

  /** start begins the loop (returns at once). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.done = this.loop();
  }

  /** stop ends the loop after the current round and closes the drivers. */
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    for (const d of this.drivers) d.close();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const moved = this.round();
      this.rounds++;
      await new Promise<void>((r) => (moved > 0 ? setImmediate(r) : setTimeout(r, 1)));
    }
  }
}

/** LiveSwitch runs `sw` with `drivers` until `stop()`. */
export class LiveSwitch extends LiveLoop {
  private pendingSwap: { prog: SwitchProgram; resolve: () => void; reject: (e: unknown) => void } | null = null;

  constructor(readonly sw: Switch, drivers: PortDriver[]) {
    super(drivers);
  }

  /** swap replaces the program between two rounds; resolves once the new program runs. */
  swap(prog: SwitchProgram): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingSwap = { prog, resolve, reject };
    });
  }

  status(): SwitchStatus {
    const sw = this.sw;
    return { program: sw.program && { name: sw.program.name, kind: sw.program.kind }, ports: sw.stats(), trace: sw.trace, rounds: this.rounds };
  }

  /** round does one poll / step / flush pass; returns the frames it moved. */
  round(): number {
    const { sw } = this;
    if (this.pendingSwap) {
      const s = this.pendingSwap;
      this.pendingSwap = null;
      try {
        sw.attach(s.prog);
        s.resolve();
      } catch (e) {
        s.reject(e);
      }
    }
    let moved = 0;
    for (const d of this.drivers) moved += d.poll();
    moved += sw.run(64);
    return moved + flushPorts(sw, this.drivers);
  }
}

/** flushPorts flushes every driver and empties the TX rings of ports without one; returns the frames moved. */
export function flushPorts(sw: Switch, drivers: PortDriver[]): number {
  let moved = 0;
  const driven = new Set(drivers.map((d) => d.port));
  for (const d of drivers) moved += d.flush();
  for (const p of sw.ports) if (!driven.has(p.index)) moved += sw.transmit(p.index, () => {});
  return moved;
}
