/**
 * The switch's own helpers. bpf_redirect (23) records the target ifindex for the frame in the
 * switch state block and returns XDP_REDIRECT, like the kernel's XDP variant (any flag makes
 * it return XDP_ABORTED). bpf_redirect_map (51) on a devmap comes with maps: it will resolve
 * the map entry to an ifindex (and BPF_F_BROADCAST / BPF_F_EXCLUDE_INGRESS into the flags word)
 * and write the same two words, so the dispatch code does not change.
 */
import { BPF_FUNC } from '../../core/helpers/ids.js';
import type { HelperRegistry } from '../../core/helpers/registry.js';
import { XDP_ABORTED, XDP_REDIRECT } from '../../core/vm/xdp.js';
import { SW_REDIRECT, SW_REDIRECT_FLAGS } from './layout.js';

/** RedirectTarget is what the redirect helpers need of a switch. */
export interface RedirectTarget {
  readonly state: number;
}

/** registerSwitchHelpers adds bpf_redirect for switch `sw` to `helpers`. */
export function registerSwitchHelpers(helpers: HelperRegistry, sw: RedirectTarget): void {
  helpers.register(BPF_FUNC.redirect, (ifindex, flags, _r3, _r4, _r5, env) => {
    if (flags !== 0n) return BigInt(XDP_ABORTED);
    const dv = env.space.dv;
    dv.setUint32(sw.state + SW_REDIRECT, Number(ifindex & 0xffffffffn), true);
    dv.setUint32(sw.state + SW_REDIRECT_FLAGS, 0, true);
    return BigInt(XDP_REDIRECT);
  });
}
