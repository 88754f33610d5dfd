/**
 * contextBtf: tsbpf's own context types as BTF, the target CO-RE relocations are applied
 * against when an object names them (libbpf would use the kernel's vmlinux BTF): `struct
 * xdp_md` and `struct __sk_buff`, with the kernel's layout (src/core/vm/xdp.ts, skb.ts).
 */
import type { Btf, BtfMember, BtfType } from '../btf/types.js';
import { SKB, SK_BUFF_SIZE } from '../vm/skb.js';
import { XDP_MD_SIZE } from '../vm/xdp.js';

const U32 = 1, U64 = 2, U8 = 3, CB = 4, IP6 = 5, FWD_KEYS = 6, PTR_KEYS = 7, FWD_SK = 8, PTR_SK = 9;

function member(name: string, type: number, byteOff: number): BtfMember {
  return { name, type, bitOffset: byteOff * 8, bitfieldSize: 0 };
}

const SKB_TYPES: Record<string, number> = {
  cb: CB, remote_ip6: IP6, local_ip6: IP6, flow_keys: PTR_KEYS, tstamp: U64, sk: PTR_SK, tstamp_type: U8, hwtstamp: U64,
};

let cached: Btf | null = null;

/** contextBtf returns the BTF of tsbpf's context structs (built once). */
export function contextBtf(): Btf {
  if (cached) return cached;
  const int = (id: number, name: string, size: number): BtfType => ({ id, name, kind: 'int', size, bits: size * 8, offset: 0, signed: false, char: false, bool: false });
  const types: BtfType[] = [
    { id: 0, name: '', kind: 'void' },
    int(U32, 'unsigned int', 4), int(U64, 'unsigned long long', 8), int(U8, 'unsigned char', 1),
    { id: CB, name: '', kind: 'array', type: U32, indexType: U32, nelems: 5 },
    { id: IP6, name: '', kind: 'array', type: U32, indexType: U32, nelems: 4 },
    { id: FWD_KEYS, name: 'bpf_flow_keys', kind: 'fwd', fwdKind: 'struct' },
    { id: PTR_KEYS, name: '', kind: 'ptr', type: FWD_KEYS },
    { id: FWD_SK, name: 'bpf_sock', kind: 'fwd', fwdKind: 'struct' },
    { id: PTR_SK, name: '', kind: 'ptr', type: FWD_SK },
  ];
  const xdp = ['data', 'data_end', 'data_meta', 'ingress_ifindex', 'rx_queue_index', 'egress_ifindex'];
  types.push({ id: types.length, name: 'xdp_md', kind: 'struct', size: XDP_MD_SIZE, members: xdp.map((n, i) => member(n, U32, i * 4)) });
  const skb = Object.entries(SKB).map(([n, off]) => member(n, SKB_TYPES[n] ?? U32, off));
  types.push({ id: types.length, name: '__sk_buff', kind: 'struct', size: SK_BUFF_SIZE, members: skb });
  cached = { littleEndian: true, types, strings: new Uint8Array(1) };
  return cached;
}
