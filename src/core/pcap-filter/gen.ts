/**
 * Code for pcap-filter primitives on Ethernet, following libpcap's choices so verdicts match
 * tcpdump's: which headers are checked, in which order, IPv4 non-first fragments never match
 * port or transport-header tests, IPv6 transport tests look through one fragment header, and
 * every `vlan` moves the offsets of everything parsed after it by 4 bytes.
 */
import * as c from '../cbpf/opcodes.js';
import type { SockFilter } from '../cbpf/opcodes.js';
import { BExpr, Test, and, cmp, ld, not, or, test } from './ir.js';

/** Dir is the direction qualifier. */
export type Dir = 'src' | 'dst' | 'or' | 'and';

/** Offsets are where the link-layer type and payload start; `vlan` moves them. */
export interface Offsets {
  linkType: number;
  linkPl: number;
}

/** ETHER_OFFSETS are the offsets of an untagged Ethernet frame. */
export const ETHER_OFFSETS: Offsets = { linkType: 12, linkPl: 14 };

const IPPROTO_FRAGMENT = 44;

/** Gen builds primitives at the current offsets. */
export class Gen {
  off: Offsets = { ...ETHER_OFFSETS };

  ethertype(v: number): Test {
    return test([ld(2, this.off.linkType)], c.BPF_JEQ, v);
  }

  ip(): Test { return this.ethertype(0x0800); }
  ip6(): Test { return this.ethertype(0x86dd); }
  arp(): Test { return this.ethertype(0x0806); }
  rarp(): Test { return this.ethertype(0x8035); }

  /** ipProto: IPv4 with protocol p. */
  ipProto(p: number): BExpr {
    return and(this.ip(), cmp(1, this.off.linkPl + 9, p));
  }

  /** ip6Proto: IPv6 whose next header is p, directly or after a fragment header. */
  ip6Proto(p: number): BExpr {
    const pl = this.off.linkPl;
    return and(this.ip6(), or(cmp(1, pl + 6, p), and(cmp(1, pl + 6, IPPROTO_FRAGMENT), cmp(1, pl + 40, p))));
  }

  /** anyProto: `proto p` without a qualifier (IPv4 or IPv6). */
  anyProto(p: number): BExpr {
    return or(this.ipProto(p), this.ip6Proto(p));
  }

  /** notFrag: the IPv4 packet is not a later fragment. */
  notFrag(): BExpr {
    return not(test([ld(2, this.off.linkPl + 6)], c.BPF_JSET, 0x1fff));
  }

  /** dirCmp combines a source and a destination test by direction (source first, like libpcap). */
  dirCmp(dir: Dir, src: () => BExpr, dst: () => BExpr): BExpr {
    if (dir === 'src') return src();
    if (dir === 'dst') return dst();
    return dir === 'and' ? and(src(), dst()) : or(src(), dst());
  }

  /**
   * host4 matches IPv4 addresses (masked) in IPv4, ARP and RARP, or one of them when `proto`
   * says so. Several addresses test each loaded field against all of them before loading the
   * next one, which is the order libpcap's optimizer gives `host a or b`.
   */
  host4(addrs: number[], mask: number, dir: Dir, proto?: 'ip' | 'arp' | 'rarp'): BExpr {
    const pl = this.off.linkPl;
    const any = (off: number): BExpr => or(...addrs.map((a) => cmp(4, off, (a & mask) >>> 0, mask)));
    const ipPart = (): BExpr => and(this.ip(), this.dirCmp(dir, () => any(pl + 12), () => any(pl + 16)));
    const arpCmp = (): BExpr => this.dirCmp(dir, () => any(pl + 14), () => any(pl + 24));
    if (proto === 'ip') return ipPart();
    if (proto === 'arp') return and(this.arp(), arpCmp());
    if (proto === 'rarp') return and(this.rarp(), arpCmp());
    return or(ipPart(), and(or(this.arp(), this.rarp()), arpCmp()));
  }

  /** host6 matches IPv6 addresses (16 bytes) under a prefix length. */
  host6(addr: number[], bits: number, dir: Dir): BExpr {
    const pl = this.off.linkPl;
    const words = (base: number): BExpr => {
      const tests: BExpr[] = [];
      for (let w = 0; w < 4; w++) {
        const wb = Math.max(0, Math.min(32, bits - 32 * w));
        if (wb === 0) continue;
        const mask = wb === 32 ? 0xffffffff : (~0 << (32 - wb)) >>> 0;
        const val = ((addr[4 * w] << 24) | (addr[4 * w + 1] << 16) | (addr[4 * w + 2] << 8) | addr[4 * w + 3]) >>> 0;
        tests.push(cmp(4, base + 4 * w, (val & mask) >>> 0, mask));
      }
      return tests.length ? and(...tests) : { t: 'const', v: true };
    };
    return and(this.ip6(), this.dirCmp(dir, () => words(pl + 8), () => words(pl + 24)));
  }

  /** etherHost matches a MAC address: the low 4 bytes first, then the high 2 (libpcap's order). */
  etherHost(mac: number[], dir: Dir): BExpr {
    const lo = ((mac[2] << 24) | (mac[3] << 16) | (mac[4] << 8) | mac[5]) >>> 0;
    const hi = (mac[0] << 8) | mac[1];
    const at = (off: number): BExpr => and(cmp(4, off + 2, lo), cmp(2, off, hi));
    return this.dirCmp(dir, () => at(6), () => at(0));
  }

  /**
   * port matches transport ports in any of the ranges over IPv6 and IPv4 (IPv4 first fragments
   * only). Like host4, several single ports are tested against each loaded field in turn.
   */
  port(ranges: [number, number][], proto: number | undefined, dir: Dir): BExpr {
    const pl = this.off.linkPl;
    const protos = proto === undefined ? [132, 6, 17] : [proto];
    const inRange = (load: () => SockFilter[]): BExpr => or(...ranges.map(([lo, hi]) =>
      lo === hi ? test(load(), c.BPF_JEQ, lo) : and(test(load(), c.BPF_JGE, lo), not(test(load(), c.BPF_JGT, hi)))));
    const msh = (): SockFilter => c.sf(c.BPF_LDX | c.BPF_B | c.BPF_MSH, 0, 0, pl);
    const ind = (o: number): SockFilter => c.sf(c.BPF_LD | c.BPF_H | c.BPF_IND, 0, 0, pl + o);
    const v6 = and(this.ip6(), or(...protos.map((p) => cmp(1, pl + 6, p))),
      this.dirCmp(dir, () => inRange(() => [ld(2, pl + 40)]), () => inRange(() => [ld(2, pl + 42)])));
    const v4 = and(this.ip(), or(...protos.map((p) => cmp(1, pl + 9, p))), this.notFrag(),
      this.dirCmp(dir, () => inRange(() => [msh(), ind(0)]), () => inRange(() => [msh(), ind(2)])));
    return or(v6, v4);
  }

  /** vlan matches a VLAN tag (and id), then moves all later offsets past the tag. */
  vlan(id?: number): BExpr {
    const tpid = or(this.ethertype(0x8100), this.ethertype(0x88a8), this.ethertype(0x9100));
    const e = id === undefined ? tpid : and(tpid, cmp(2, this.off.linkPl, id, 0x0fff));
    this.off = { linkType: this.off.linkType + 4, linkPl: this.off.linkPl + 4 };
    return e;
  }

  /** lenTest compares the wire length. */
  lenTest(jop: number, k: number): Test {
    return test([c.sf(c.BPF_LD | c.BPF_W | c.BPF_LEN)], jop, k);
  }

  etherBroadcast(): BExpr {
    return and(cmp(4, 2, 0xffffffff), cmp(2, 0, 0xffff));
  }

  etherMulticast(): BExpr {
    return test([ld(1, 0)], c.BPF_JSET, 1);
  }

  ipMulticast(): BExpr {
    return and(this.ip(), test([ld(1, this.off.linkPl + 16)], c.BPF_JGE, 224));
  }

  ip6Multicast(): BExpr {
    return and(this.ip6(), cmp(1, this.off.linkPl + 24, 255));
  }
}
