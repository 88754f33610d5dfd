/**
 * Devmap egress programs: a devmap entry `struct bpf_devmap_val { ifindex; bpf_prog.fd }`
 * with a program runs it on every frame redirected through that entry, just before the frame
 * is queued on the port (the kernel's dev_map_bpf_prog_run): an XDP context whose
 * egress_ifindex is the output port's ifindex (ingress_ifindex stays the receiving port's).
 * XDP_PASS sends the frame as the program left it (bpf_xdp_adjust_* work); XDP_DROP drops
 * it; XDP_ABORTED, any other action and faults drop it with a trace, as Linux does.
 */
import { isBpfError } from '../../core/errors.js';
import { XDP_ABORTED, XDP_DROP, XDP_PASS } from '../../core/vm/xdp.js';
import { CTR, PROG_XDP } from './layout.js';
import type { SwitchPort } from './port.js';
import type { Switch } from './switch.js';

/** XDP_MD_EGRESS_IFINDEX is the word index of egress_ifindex in struct xdp_md. */
const XDP_MD_EGRESS_IFINDEX = 5;

/**
 * runEgress runs egress program `id` on the frame [data, data + len) about to leave `out`
 * (received on `ingress`). Returns the frame to send ({data, len}) or null: dropped, freed
 * and counted on `out`.
 */
export function runEgress(sw: Switch, ingress: SwitchPort, out: SwitchPort, data: number, len: number, id: number):
  { data: number; len: number } | null {
  const prog = sw.egressProgram(id);
  const drop = (c: number, reason: string, extra: { r0?: number; code?: string; message?: string } = {}) => {
    if (reason) sw.traceEvent({ port: out.index, reason, ...extra });
    out.count(c);
    sw.pool.free(data);
    return null;
  };
  if (!prog) return drop(CTR.drop_no_port, 'egress_prog_missing', { r0: id });
  const fc = sw.frame;
  let u32 = sw.views.refresh().u32;
  fc.set(u32, PROG_XDP, data, len, ingress.index, ingress.ifindex);
  u32[(fc.md >>> 2) + XDP_MD_EGRESS_IFINDEX] = out.ifindex;
  let r0: number;
  try {
    r0 = Number(prog.run(fc.opts).r0 & 0xffffffffn);
  } catch (e) {
    const err = isBpfError(e) ? e : null;
    return drop(CTR.drop_fault, 'egress_fault', { code: err?.code ?? 'internal', message: (e as Error)?.message ?? String(e) });
  }
  u32 = sw.views.refresh().u32;
  const d = fc.dataOf(u32), end = fc.endOf(u32, PROG_XDP);
  if (r0 === XDP_DROP) return drop(CTR.drop_program, '');
  if (r0 === XDP_ABORTED) return drop(CTR.drop_aborted, 'egress_aborted', { r0 });
  if (r0 !== XDP_PASS) return drop(CTR.drop_bad_action, 'egress_bad_action', { r0 });
  if (end <= d || !sw.pool.contains(d, end - d) || sw.pool.indexOf(d) !== sw.pool.indexOf(data)) {
    return drop(CTR.drop_bad_frame, 'bad_frame', { r0 });
  }
  return { data: d, len: end - d };
}
