/**
 * Program contexts as the verifier sees them: which bytes of the context struct a program
 * type may read or write, with which sizes, and which fields load packet pointers
 * (xdp_is_valid_access, sk_filter_is_valid_access, tc_cls_act_is_valid_access).
 * `raw` programs have no context struct: r1 points at the data and r2 holds its length.
 */
import { RegType } from './reg.js';

/** ProgType is a program type the verifier knows (bpftool names). */
export type ProgType = 'xdp' | 'socket_filter' | 'sched_cls' | 'raw';

/** PROG_TYPES lists the known program types. */
export const PROG_TYPES: readonly ProgType[] = ['xdp', 'socket_filter', 'sched_cls', 'raw'];

interface Field {
  name: string;
  off: number;
  size: number;
  /** what a load of the whole field gives */
  load?: RegType;
  /** loads of part of the field are allowed (scalar fields) */
  narrow?: boolean;
  /** program types that may write it */
  write?: ProgType[];
  /** program types that may not access it at all */
  hidden?: ProgType[];
  /** any aligned access inside the field (cb[]) */
  anySize?: boolean;
}

/** CtxLayout is a context struct. */
interface CtxLayout { size: number; fields: Field[] }

const XDP_MD: CtxLayout = {
  size: 24,
  fields: [
    { name: 'data', off: 0, size: 4, load: RegType.PTR_TO_PACKET },
    { name: 'data_end', off: 4, size: 4, load: RegType.PTR_TO_PACKET_END },
    { name: 'data_meta', off: 8, size: 4, load: RegType.PTR_TO_PACKET_META },
    { name: 'ingress_ifindex', off: 12, size: 4 },
    { name: 'rx_queue_index', off: 16, size: 4 },
  ],
};

const SF: ProgType[] = ['socket_filter'];
const TC: ProgType[] = ['sched_cls'];
const BOTH: ProgType[] = ['socket_filter', 'sched_cls'];
const sk = (name: string, off: number, extra: Partial<Field> = {}): Field => ({ name, off, size: 4, narrow: true, ...extra });

const SK_BUFF: CtxLayout = {
  size: 192,
  fields: [
    sk('len', 0), sk('pkt_type', 4), sk('mark', 8, { write: TC }), sk('queue_mapping', 12, { write: TC }),
    sk('protocol', 16), sk('vlan_present', 20), sk('vlan_tci', 24), sk('vlan_proto', 28),
    sk('priority', 32, { write: TC }), sk('ingress_ifindex', 36), sk('ifindex', 40), sk('tc_index', 44, { write: TC }),
    { name: 'cb', off: 48, size: 20, anySize: true, write: BOTH },
    sk('hash', 68), sk('tc_classid', 72, { write: TC, hidden: SF }),
    { name: 'data', off: 76, size: 4, load: RegType.PTR_TO_PACKET, hidden: SF },
    { name: 'data_end', off: 80, size: 4, load: RegType.PTR_TO_PACKET_END, hidden: SF },
    sk('napi_id', 84),
    { name: 'data_meta', off: 140, size: 4, load: RegType.PTR_TO_PACKET_META, hidden: SF },
    { name: 'tstamp', off: 152, size: 8, write: TC, hidden: SF },
    sk('wire_len', 160, { hidden: SF }), sk('gso_segs', 164), sk('gso_size', 176),
    { name: 'hwtstamp', off: 184, size: 8, hidden: SF },
  ],
};

/** ProgTypeInfo says what a program type may do. */
export interface ProgTypeInfo {
  ctx: CtxLayout | null;
  /** direct packet access (loads/stores through packet pointers) */
  packetRead: boolean;
  packetWrite: boolean;
  /** LD_ABS / LD_IND allowed */
  ldAbs: boolean;
  /** LD_ABS needs r6 to hold the context (skb) */
  ldAbsNeedsCtx: boolean;
  /** R0 must be a scalar at exit */
  scalarReturn: boolean;
}

/** progTypeInfo returns the rules of a program type. */
export function progTypeInfo(t: ProgType): ProgTypeInfo {
  switch (t) {
    case 'xdp': return { ctx: XDP_MD, packetRead: true, packetWrite: true, ldAbs: false, ldAbsNeedsCtx: true, scalarReturn: true };
    case 'sched_cls': return { ctx: SK_BUFF, packetRead: true, packetWrite: true, ldAbs: true, ldAbsNeedsCtx: true, scalarReturn: true };
    case 'socket_filter': return { ctx: SK_BUFF, packetRead: false, packetWrite: false, ldAbs: true, ldAbsNeedsCtx: true, scalarReturn: true };
    default: return { ctx: null, packetRead: true, packetWrite: true, ldAbs: true, ldAbsNeedsCtx: false, scalarReturn: true };
  }
}

/**
 * ctxAccess checks a load or store of `size` bytes at `off` in the context; it returns the
 * type a load produces (SCALAR or a packet pointer), or null when the access is not allowed.
 */
export function ctxAccess(t: ProgType, layout: CtxLayout, off: number, size: number, write: boolean): RegType | null {
  if (off < 0 || off + size > layout.size || off % size !== 0) return null;
  const f = layout.fields.find((x) => off >= x.off && off < x.off + x.size);
  if (!f || f.hidden?.includes(t) || off + size > f.off + f.size) return null;
  if (write && !f.write?.includes(t)) return null;
  if (f.anySize) return RegType.SCALAR;
  if (write || f.load !== undefined || !f.narrow) {
    if (size !== f.size || off !== f.off) return null;
    return f.load ?? RegType.SCALAR;
  }
  return RegType.SCALAR;
}
