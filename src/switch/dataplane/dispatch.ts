/**
 * Dispatch: what happens to a frame once the program has decided. One implementation, used by
 * the JavaScript loop for every frame and by the WebAssembly loop for the frames it punts
 * (broadcast, aborts, bad verdicts: the rare cases).
 */
import { XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_REDIRECT, XDP_TX } from '../../core/vm/xdp.js';
import { BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS, CTR, PROG_VALE, SW_EGRESS, SW_REDIRECT, SW_REDIRECT_FLAGS, VALE_BPF_BROADCAST,
  VALE_BPF_DROP } from './layout.js';
import type { SwitchPort } from './port.js';
import { devEntries } from '../../core/maps/devmap.js';
import { runEgress } from './egress.js';
import type { Switch } from './switch.js';

/** TraceEvent records an exceptional frame: an abort, a fault, a bad verdict or target. */
export interface TraceEvent {
  port: number;
  reason: string;
  /** program return value (low 32 bits) where there was one */
  r0?: number;
  /** error code and message of a fault */
  code?: string;
  message?: string;
  insn?: number;
}

/** drop frees a frame and counts it under drop counter `c` on `port`. */
export function drop(sw: Switch, port: SwitchPort, addr: number, c: number): void {
  port.count(c);
  sw.pool.free(addr);
}

/** FloodTarget is a port a broadcast reaches and its devmap entry's egress program id (0: none). */
export interface FloodTarget {
  port: SwitchPort;
  prog: number;
}

/**
 * egressOutput runs devmap egress program `prog` (if any) on a frame from `ingress`, then
 * queues what it passes on `out`.
 */
function egressOutput(sw: Switch, ingress: SwitchPort, out: SwitchPort, addr: number, len: number, prog: number): void {
  if (prog === 0) return output(sw, out, addr, len);
  const f = runEgress(sw, ingress, out, addr, len, prog);
  if (f) output(sw, out, f.data, f.len);
}

/** output queues a frame on `port`'s TX ring (a counted ring_full drop when it is full). */
export function output(sw: Switch, port: SwitchPort, addr: number, len: number): void {
  if (!port.tx.push(addr, len)) return drop(sw, port, addr, CTR.drop_ring_full);
  port.count(CTR.tx_packets);
  port.count(CTR.tx_bytes, len);
}

/** dispatch applies verdict `r0` (low 32 bits of the program's r0) to a frame from `port`. */
export function dispatch(sw: Switch, port: SwitchPort, addr: number, len: number, r0: number): void {
  if (sw.kind === PROG_VALE) return dispatchVale(sw, port, addr, len, r0);
  switch (r0) {
    case XDP_ABORTED:
      port.count(CTR.act_aborted);
      sw.traceEvent({ port: port.index, reason: 'aborted', r0 });
      return drop(sw, port, addr, CTR.drop_aborted);
    case XDP_DROP:
      port.count(CTR.act_drop);
      return drop(sw, port, addr, CTR.drop_program);
    case XDP_PASS:
      port.count(CTR.act_pass);
      if (!port.host.push(addr, len)) drop(sw, port, addr, CTR.drop_host_full);
      return;
    case XDP_TX:
      port.count(CTR.act_tx);
      return output(sw, port, addr, len);
    case XDP_REDIRECT:
      port.count(CTR.act_redirect);
      return redirect(sw, port, addr, len);
    default:
      sw.traceEvent({ port: port.index, reason: 'bad_action', r0 });
      return drop(sw, port, addr, CTR.drop_bad_action);
  }
}

function redirect(sw: Switch, port: SwitchPort, addr: number, len: number): void {
  const flags = sw.views.u32[(sw.state + SW_REDIRECT_FLAGS) >>> 2];
  const ifindex = sw.views.u32[(sw.state + SW_REDIRECT) >>> 2];
  if (flags & BPF_F_BROADCAST) {
    // bpf_redirect_map leaves the devmap's header address: broadcast to its interfaces only
    return flood(sw, port, addr, len, sw.floodPorts(port, (flags & BPF_F_EXCLUDE_INGRESS) === 0, ifindex));
  }
  const out = sw.portByIfindex(ifindex);
  if (out < 0) {
    sw.traceEvent({ port: port.index, reason: 'no_port', r0: ifindex });
    return drop(sw, port, addr, CTR.drop_no_port);
  }
  egressOutput(sw, port, sw.ports[out], addr, len, sw.views.u32[(sw.state + SW_EGRESS) >>> 2]);
}

function dispatchVale(sw: Switch, port: SwitchPort, addr: number, len: number, r0: number): void {
  if (r0 === VALE_BPF_DROP) {
    port.count(CTR.act_drop);
    return drop(sw, port, addr, CTR.drop_program);
  }
  if (r0 === VALE_BPF_BROADCAST) {
    port.count(CTR.act_broadcast);
    return broadcast(sw, port, addr, len);
  }
  if (r0 > 0xff) {
    sw.traceEvent({ port: port.index, reason: 'bad_action', r0 });
    return drop(sw, port, addr, CTR.drop_bad_action);
  }
  port.count(CTR.act_forward);
  const out = sw.ports[r0];
  if (!out) {
    sw.traceEvent({ port: port.index, reason: 'no_port', r0 });
    return drop(sw, port, addr, CTR.drop_no_port);
  }
  // VALE never sends a frame back out of the port it came from.
  if (out === port) return drop(sw, port, addr, CTR.drop_hairpin);
  output(sw, out, addr, len);
}

/**
 * broadcast sends a copy to every port (or those whose ifindex is in `only`: a devmap's) but
 * the ingress one (unless `includeIngress`, as bpf_redirect_map with BPF_F_BROADCAST alone
 * does); the last gets the original frame.
 */
export function broadcast(sw: Switch, port: SwitchPort, addr: number, len: number, includeIngress = false): void {
  flood(sw, port, addr, len, sw.floodPorts(port, includeIngress, 0));
}

/**
 * floodTargets lists the ports a broadcast from `port` reaches: all ports, or those of devmap
 * `devmap` (a header address; 0: none), with or without the ingress port.
 */
export function floodTargets(sw: Switch, port: SwitchPort, includeIngress: boolean, devmap: number): FloodTarget[] {
  const only = devmap !== 0 ? new Map(devEntries(sw.space, devmap).map((e) => [e.ifindex, e.prog])) : null;
  return sw.ports.filter((p) => (includeIngress || p !== port) && (only === null || only.has(p.ifindex)))
    .map((p) => ({ port: p, prog: only?.get(p.ifindex) ?? 0 }));
}

/** flood sends copies to `outs` (the last gets the original frame), each through its egress program. */
function flood(sw: Switch, port: SwitchPort, addr: number, len: number, outs: FloodTarget[]): void {
  if (outs.length === 0) return drop(sw, port, addr, CTR.drop_hairpin);
  for (let k = 0; k < outs.length - 1; k++) {
    const copy = sw.pool.alloc();
    if (copy === 0) {
      outs[k].port.count(CTR.drop_no_frame);
      continue;
    }
    sw.views.refresh().u8.copyWithin(copy, addr, addr + len);
    egressOutput(sw, port, outs[k].port, copy, len, outs[k].prog);
  }
  const last = outs[outs.length - 1];
  egressOutput(sw, port, last.port, addr, len, last.prog);
}
