/**
 * Program section names as libbpf understands them: a data table mapping `SEC("...")`
 * names to the kernel program type and expected attach type. An entry ending in `+` also
 * matches `<prefix>/<target>` (kprobe/do_sys_open, tracepoint/syscalls/sys_enter_write);
 * other entries match exactly. Unknown names give program type `unspec` so the caller can
 * choose one, as libbpf's bpf_program__set_type() allows.
 */

/** PROG_TYPES lists enum bpf_prog_type in kernel order (index = numeric value). */
export const PROG_TYPES = [
  'unspec', 'socket_filter', 'kprobe', 'sched_cls', 'sched_act', 'tracepoint', 'xdp', 'perf_event',
  'cgroup_skb', 'cgroup_sock', 'lwt_in', 'lwt_out', 'lwt_xmit', 'sock_ops', 'sk_skb', 'cgroup_device',
  'sk_msg', 'raw_tracepoint', 'cgroup_sock_addr', 'lwt_seg6local', 'lirc_mode2', 'sk_reuseport',
  'flow_dissector', 'cgroup_sysctl', 'raw_tracepoint_writable', 'cgroup_sockopt', 'tracing', 'struct_ops',
  'ext', 'lsm', 'sk_lookup', 'syscall', 'netfilter',
] as const;

/** ProgType is a program type in bpftool's lowercase spelling (BPF_PROG_TYPE_XDP -> 'xdp'). */
export type ProgType = (typeof PROG_TYPES)[number];

/** ATTACH_TYPES lists enum bpf_attach_type in kernel order (index = numeric value). */
export const ATTACH_TYPES = [
  'cgroup_inet_ingress', 'cgroup_inet_egress', 'cgroup_inet_sock_create', 'cgroup_sock_ops',
  'sk_skb_stream_parser', 'sk_skb_stream_verdict', 'cgroup_device', 'sk_msg_verdict', 'cgroup_inet4_bind',
  'cgroup_inet6_bind', 'cgroup_inet4_connect', 'cgroup_inet6_connect', 'cgroup_inet4_post_bind',
  'cgroup_inet6_post_bind', 'cgroup_udp4_sendmsg', 'cgroup_udp6_sendmsg', 'lirc_mode2', 'flow_dissector',
  'cgroup_sysctl', 'cgroup_udp4_recvmsg', 'cgroup_udp6_recvmsg', 'cgroup_getsockopt', 'cgroup_setsockopt',
  'trace_raw_tp', 'trace_fentry', 'trace_fexit', 'modify_return', 'lsm_mac', 'trace_iter',
  'cgroup_inet4_getpeername', 'cgroup_inet6_getpeername', 'cgroup_inet4_getsockname', 'cgroup_inet6_getsockname',
  'xdp_devmap', 'cgroup_inet_sock_release', 'xdp_cpumap', 'sk_lookup', 'xdp', 'sk_skb_verdict',
  'sk_reuseport_select', 'sk_reuseport_select_or_migrate', 'perf_event', 'trace_kprobe_multi', 'lsm_cgroup',
  'struct_ops', 'netfilter', 'tcx_ingress', 'tcx_egress', 'trace_uprobe_multi',
] as const;

/** AttachType is an attach type in lowercase (BPF_XDP -> 'xdp'), or null when the kernel expects none. */
export type AttachType = (typeof ATTACH_TYPES)[number];

/** SecDef is one row of the section table. */
export interface SecDef {
  /** section name; a trailing `+` means "this name, or this name followed by /target" */
  sec: string;
  progType: ProgType;
  attachType: AttachType | null;
  sleepable?: boolean;
  /** xdp.frags: the program handles multi-buffer packets (BPF_F_XDP_HAS_FRAGS) */
  xdpFrags?: boolean;
}

type Row = [string, ProgType, AttachType | null, ('s' | 'frags')?];

// Order matters: the first match wins, so longer names precede their prefixes.
const ROWS: Row[] = [
  ['socket', 'socket_filter', null],
  ['sk_reuseport/migrate', 'sk_reuseport', 'sk_reuseport_select_or_migrate'],
  ['sk_reuseport', 'sk_reuseport', 'sk_reuseport_select'],
  ['kprobe.multi+', 'kprobe', 'trace_kprobe_multi'],
  ['kretprobe.multi+', 'kprobe', 'trace_kprobe_multi'],
  ['uprobe.multi+', 'kprobe', 'trace_uprobe_multi'],
  ['uretprobe.multi+', 'kprobe', 'trace_uprobe_multi'],
  ['uprobe.multi.s+', 'kprobe', 'trace_uprobe_multi', 's'],
  ['uretprobe.multi.s+', 'kprobe', 'trace_uprobe_multi', 's'],
  ['kprobe+', 'kprobe', null],
  ['kretprobe+', 'kprobe', null],
  ['uprobe.s+', 'kprobe', null, 's'],
  ['uretprobe.s+', 'kprobe', null, 's'],
  ['uprobe+', 'kprobe', null],
  ['uretprobe+', 'kprobe', null],
  ['ksyscall+', 'kprobe', null],
  ['kretsyscall+', 'kprobe', null],
  ['usdt+', 'kprobe', null],
  ['tc/ingress', 'sched_cls', 'tcx_ingress'],
  ['tc/egress', 'sched_cls', 'tcx_egress'],
  ['tcx/ingress', 'sched_cls', 'tcx_ingress'],
  ['tcx/egress', 'sched_cls', 'tcx_egress'],
  ['tc', 'sched_cls', null],
  ['classifier', 'sched_cls', null],
  ['action', 'sched_act', null],
  ['tracepoint+', 'tracepoint', null],
  ['tp+', 'tracepoint', null],
  ['raw_tracepoint.w+', 'raw_tracepoint_writable', null],
  ['raw_tp.w+', 'raw_tracepoint_writable', null],
  ['raw_tracepoint+', 'raw_tracepoint', null],
  ['raw_tp+', 'raw_tracepoint', null],
  ['tp_btf+', 'tracing', 'trace_raw_tp'],
  ['fentry.s+', 'tracing', 'trace_fentry', 's'],
  ['fmod_ret.s+', 'tracing', 'modify_return', 's'],
  ['fexit.s+', 'tracing', 'trace_fexit', 's'],
  ['fentry+', 'tracing', 'trace_fentry'],
  ['fmod_ret+', 'tracing', 'modify_return'],
  ['fexit+', 'tracing', 'trace_fexit'],
  ['freplace+', 'ext', null],
  ['lsm.s+', 'lsm', 'lsm_mac', 's'],
  ['lsm_cgroup+', 'lsm', 'lsm_cgroup'],
  ['lsm+', 'lsm', 'lsm_mac'],
  ['iter.s+', 'tracing', 'trace_iter', 's'],
  ['iter+', 'tracing', 'trace_iter'],
  ['syscall', 'syscall', null, 's'],
  ['xdp.frags/devmap', 'xdp', 'xdp_devmap', 'frags'],
  ['xdp/devmap', 'xdp', 'xdp_devmap'],
  ['xdp.frags/cpumap', 'xdp', 'xdp_cpumap', 'frags'],
  ['xdp/cpumap', 'xdp', 'xdp_cpumap'],
  ['xdp.frags', 'xdp', 'xdp', 'frags'],
  ['xdp', 'xdp', 'xdp'],
  ['perf_event', 'perf_event', null],
  ['lwt_in', 'lwt_in', null],
  ['lwt_out', 'lwt_out', null],
  ['lwt_xmit', 'lwt_xmit', null],
  ['lwt_seg6local', 'lwt_seg6local', null],
  ['sockops', 'sock_ops', 'cgroup_sock_ops'],
  ['sk_skb/stream_parser', 'sk_skb', 'sk_skb_stream_parser'],
  ['sk_skb/stream_verdict', 'sk_skb', 'sk_skb_stream_verdict'],
  ['sk_skb', 'sk_skb', null],
  ['sk_msg', 'sk_msg', 'sk_msg_verdict'],
  ['lirc_mode2', 'lirc_mode2', 'lirc_mode2'],
  ['flow_dissector', 'flow_dissector', 'flow_dissector'],
  ['cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress'],
  ['cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress'],
  ['cgroup/skb', 'cgroup_skb', null],
  ['cgroup/sock_create', 'cgroup_sock', 'cgroup_inet_sock_create'],
  ['cgroup/sock_release', 'cgroup_sock', 'cgroup_inet_sock_release'],
  ['cgroup/sock', 'cgroup_sock', 'cgroup_inet_sock_create'],
  ['cgroup/post_bind4', 'cgroup_sock', 'cgroup_inet4_post_bind'],
  ['cgroup/post_bind6', 'cgroup_sock', 'cgroup_inet6_post_bind'],
  ['cgroup/bind4', 'cgroup_sock_addr', 'cgroup_inet4_bind'],
  ['cgroup/bind6', 'cgroup_sock_addr', 'cgroup_inet6_bind'],
  ['cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect'],
  ['cgroup/connect6', 'cgroup_sock_addr', 'cgroup_inet6_connect'],
  ['cgroup/sendmsg4', 'cgroup_sock_addr', 'cgroup_udp4_sendmsg'],
  ['cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup_udp6_sendmsg'],
  ['cgroup/recvmsg4', 'cgroup_sock_addr', 'cgroup_udp4_recvmsg'],
  ['cgroup/recvmsg6', 'cgroup_sock_addr', 'cgroup_udp6_recvmsg'],
  ['cgroup/getpeername4', 'cgroup_sock_addr', 'cgroup_inet4_getpeername'],
  ['cgroup/getpeername6', 'cgroup_sock_addr', 'cgroup_inet6_getpeername'],
  ['cgroup/getsockname4', 'cgroup_sock_addr', 'cgroup_inet4_getsockname'],
  ['cgroup/getsockname6', 'cgroup_sock_addr', 'cgroup_inet6_getsockname'],
  ['cgroup/sysctl', 'cgroup_sysctl', 'cgroup_sysctl'],
  ['cgroup/getsockopt', 'cgroup_sockopt', 'cgroup_getsockopt'],
  ['cgroup/setsockopt', 'cgroup_sockopt', 'cgroup_setsockopt'],
  ['cgroup/dev', 'cgroup_device', 'cgroup_device'],
  ['struct_ops.s+', 'struct_ops', null, 's'],
  ['struct_ops+', 'struct_ops', null],
  ['sk_lookup', 'sk_lookup', 'sk_lookup'],
  ['netfilter', 'netfilter', 'netfilter'],
];

/** SEC_DEFS is the section table, first match wins. */
export const SEC_DEFS: readonly SecDef[] = ROWS.map(([sec, progType, attachType, extra]) => ({
  sec, progType, attachType,
  ...(extra === 's' ? { sleepable: true } : {}),
  ...(extra === 'frags' ? { xdpFrags: true } : {}),
}));

/** SecMatch is what a section name says about its programs. */
export interface SecMatch {
  progType: ProgType;
  attachType: AttachType | null;
  /** attachTo is the target after the prefix: "do_sys_open" for kprobe/do_sys_open */
  attachTo: string;
  sleepable: boolean;
  xdpFrags: boolean;
  /** def is the table row that matched, or null for a custom name */
  def: SecDef | null;
}

/** matchSection finds the program type a libbpf section name implies. */
export function matchSection(name: string): SecMatch {
  for (const def of SEC_DEFS) {
    const prefix = def.sec.endsWith('+') ? def.sec.slice(0, -1) : null;
    let attachTo: string | null = null;
    if (prefix === null) attachTo = name === def.sec ? '' : null;
    else if (name === prefix) attachTo = '';
    else if (name.startsWith(prefix + '/')) attachTo = name.slice(prefix.length + 1);
    if (attachTo === null) continue;
    return { progType: def.progType, attachType: def.attachType, attachTo, sleepable: !!def.sleepable, xdpFrags: !!def.xdpFrags, def };
  }
  return { progType: 'unspec', attachType: null, attachTo: '', sleepable: false, xdpFrags: false, def: null };
}

/** progTypeId returns the kernel's numeric value of a program type. */
export function progTypeId(t: ProgType): number {
  return PROG_TYPES.indexOf(t);
}

/** attachTypeId returns the kernel's numeric value of an attach type (0 when none is expected). */
export function attachTypeId(t: AttachType | null): number {
  return t === null ? 0 : ATTACH_TYPES.indexOf(t);
}
