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

/** LiveSwitch runs `sw` with `drivers` until `stop()`. */
export class LiveSwitch {
  private running = false;
  private done: Promise<void> | null = null;
  private pendingSwap: { prog: SwitchProgram; resolve: () => void; reject: (e: unknown) => void } | null = null;
  /** rounds counts loop iterations (for tests and stats) */
  rounds = 0;

  constructor(readonly sw: Switch, readonly drivers: PortDriver[]) {}

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

  /** swap replaces the program between two rounds; resolves once the new program runs. */
  swap(prog: SwitchProgram): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingSwap = { prog, resolve, reject };
    });
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
    const driven = new Set(this.drivers.map((d) => d.port));
    for (const d of this.drivers) moved += d.flush();
    for (const p of sw.ports) if (!driven.has(p.index)) moved += sw.transmit(p.index, () => {});
    this.rounds++;
    return moved;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const moved = this.round();
      await new Promise<void>((r) => (moved > 0 ? setImmediate(r) : setTimeout(r, 1)));
    }
  }
}
