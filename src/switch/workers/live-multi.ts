/**
 * MultiLive: the live loop of a multi-worker switch. In io mode the main thread keeps the
 * port I/O: each round polls the drivers (onto the front switch's RX rings), deals the frames
 * to the workers by RSS hash (MultiSwitch.distribute), gathers what the workers transmitted
 * onto the front TX rings and flushes the drivers. In gen mode the workers generate and sink
 * their own traffic and the loop only serves the control socket. Stats are the workers'
 * shared counters summed; a swap is MultiSwitch.swap (atomic across the workers in io mode).
 */
import { LiveLoop, flushPorts, type SwitchStatus } from '../live.js';
import type { SwitchProgram } from '../program.js';
import type { PortDriver } from '../ports/driver.js';
import type { MultiSwitch } from './multi.js';

/** MultiLive runs `ms` (and, in io mode, `drivers` on its front ports) until stop(). */
export class MultiLive extends LiveLoop {
  constructor(readonly ms: MultiSwitch, drivers: PortDriver[] = []) {
    super(drivers);
  }

  /**
   * round polls, distributes, gathers and flushes, repeating (up to ~2 ms) while frames move:
   * yielding to the event loop after every pass would cap the rate at one pass per tick.
   */
  round(): number {
    const { ms } = this;
    if (!ms.hasFront) return 0;
    let total = 0;
    const t0 = performance.now();
    for (let i = 0; ; i++) {
      let moved = 0;
      for (const d of this.drivers) moved += d.poll();
      moved += ms.distribute();
      moved += ms.gather();
      moved += flushPorts(ms.front, this.drivers);
      total += moved;
      if (moved === 0 || ((i & 15) === 15 && performance.now() - t0 > 2)) return total;
    }
  }

  swap(prog: SwitchProgram): Promise<void> {
    return this.ms.swap(prog);
  }

  status(): SwitchStatus {
    const ports = this.ms.stats().map((s, i) => ({ port: i, name: `port${i}`, ifindex: i + 1, ...s }));
    return { program: this.ms.program, ports, trace: [...this.ms.trace], rounds: this.rounds };
  }
}
