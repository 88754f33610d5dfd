/**
 * PortDriver: what connects a switch port to the outside world while the switch runs live:
 * `poll` moves frames from the device onto the port's RX ring, `flush` sends what the port's
 * TX ring holds and frees the buffers. The live loop (live.ts) calls both around each step.
 */
import { CTR, ETH_HLEN } from '../dataplane/layout.js';
import type { Switch } from '../dataplane/switch.js';

/** PortDriver drives one switch port. */
export interface PortDriver {
  /** port index in the switch */
  readonly port: number;
  /** a short description for logs: "tap:tsbpf0", "vxlan:127.0.0.1:4789 vni 42" */
  readonly label: string;
  /** poll takes waiting frames from the device (at most the RX ring's free slots); returns the count */
  poll(): number;
  /** flush sends every frame on the TX ring; returns the count */
  flush(): number;
  close(): void;
}

/**
 * acceptInPlace queues a frame already written into pool buffer `addr` (`len` bytes) on port
 * `p`'s RX ring, or frees it with a counted drop (runt, oversize, ring full).
 */
export function acceptInPlace(sw: Switch, p: number, addr: number, len: number): boolean {
  const port = sw.ports[p];
  let reason = -1;
  if (len < ETH_HLEN) reason = CTR.drop_runt;
  else if (len > sw.pool.maxLen) reason = CTR.drop_oversize;
  else if (!port.rx.push(addr, len)) reason = CTR.drop_ring_full;
  if (reason < 0) return true;
  sw.views.refresh();
  port.count(reason);
  sw.pool.free(addr);
  return false;
}
