/**
 * MemPort: an in-memory port driver for the live loop: optionally a generator (fills the RX
 * ring with template frames, up to `limit` frames in total, a batch at a time) and always a
 * counting sink (empties the TX ring, counting frames and bytes, recycling the buffers).
 */
import type { Switch } from '../dataplane/switch.js';
import type { SinkCount } from '../dataplane/mem-port.js';
import { WasmFrameSource } from '../dataplane/gen-wasm.js';
import type { PortDriver } from './driver.js';

/** MemPort generates into and counts out of one port. */
export class MemPort implements PortDriver {
  readonly label: string;
  /** frames generated so far */
  sent = 0;
  private readonly src: WasmFrameSource;
  private readonly generates: boolean;
  /** generation stops after this many frames (Infinity: never); settable while running */
  limit: number;
  /** generation is paused while true */
  paused = false;

  constructor(private readonly sw: Switch, readonly port: number, templates: Uint8Array[] = [], limit = Infinity) {
    this.src = new WasmFrameSource(sw.space, sw.pool, templates);
    this.generates = templates.length > 0;
    this.limit = limit;
    this.label = `mem:${port}${templates.length ? ' (generator)' : ''}`;
  }

  /** out is the frames and bytes the port transmitted (and the sink recycled). */
  get out(): SinkCount {
    return this.src.count();
  }

  poll(): number {
    if (!this.generates || this.paused || this.sent >= this.limit) return 0;
    const n = this.src.fill(this.sw.ports[this.port].rx, this.limit - this.sent);
    this.sent += n;
    return n;
  }

  flush(): number {
    return this.src.sink(this.sw.ports[this.port].tx);
  }

  close(): void {}
}
