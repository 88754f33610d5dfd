/**
 * Test packet factory: Ethernet frames of many protocols (IPv4/IPv6/ARP, TCP/UDP/SCTP/ICMP/
 * ICMPv6, VLAN and QinQ tags, IPv4 fragments, IPv6 extension headers, truncated captures),
 * generated deterministically from a seed so tcpdump and tsbpf see the same corpus.
 */
import type { PacketLike } from '../../src/core/pcap/write.js';

/** rng is a small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

/** Pools of addresses the expressions in the tests refer to, so filters actually match. */
export const MACS = ['00:11:22:33:44:55', '66:77:88:99:aa:bb', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', '02:00:00:00:00:01'];
export const IP4S = ['10.0.0.1', '10.0.0.2', '10.1.2.3', '192.168.1.1', '192.168.1.200', '172.16.5.4', '8.8.8.8', '224.0.0.5', '255.255.255.255', '127.0.0.1'];
export const IP6S = ['2001:db8::1', '2001:db8::2', 'fe80::1', 'ff02::1', '::1', '2001:db8:1::abcd'];
export const PORTS = [22, 53, 80, 443, 8080, 1024, 5000, 65535, 0, 123, 20, 21];

function mac(s: string): number[] {
  return s.split(':').map((h) => parseInt(h, 16));
}

function ip4(s: string): number[] {
  return s.split('.').map(Number);
}

/** ip6 parses an IPv6 address (with ::) into 16 bytes. */
export function ip6(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':').filter((x) => x) : [];
  const t = tail ? tail.split(':').filter((x) => x) : [];
  const groups = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => be16(parseInt(g, 16)));
}

function pick<T>(r: () => number, a: readonly T[]): T {
  return a[Math.floor(r() * a.length)];
}

function bytes(r: () => number, n: number): number[] {
  return Array.from({ length: n }, () => Math.floor(r() * 256));
}

function checksumless(b: number[]): number[] {
  return b; // checksums are irrelevant to filters; keep them zero
}

/** l4 builds a transport header plus payload for protocol `proto`. */
function l4(r: () => number, proto: number): number[] {
  const payload = bytes(r, Math.floor(r() * 40));
  const sport = r() < 0.7 ? pick(r, PORTS) : Math.floor(r() * 65536);
  const dport = r() < 0.7 ? pick(r, PORTS) : Math.floor(r() * 65536);
  switch (proto) {
    case 6: {
      const flags = pick(r, [0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x01, 0x29, 0xff, 0x00]);
      const opts = r() < 0.3 ? [2, 4, 5, 0xb4] : [];
      const off = (5 + opts.length / 4) << 4;
      return [...be16(sport), ...be16(dport), ...be32(Math.floor(r() * 2 ** 32)), ...be32(0), off, flags, ...be16(65535), 0, 0, 0, 0, ...opts, ...payload];
    }
    case 17:
      return [...be16(sport), ...be16(dport), ...be16(8 + payload.length), 0, 0, ...payload];
    case 132:
      return [...be16(sport), ...be16(dport), ...be32(1), ...be32(0), ...payload];
    case 1: {
      const type = pick(r, [0, 8, 3, 11, 5, 13, 14]);
      return [type, Math.floor(r() * 4), 0, 0, ...be32(0x10001), ...payload];
    }
    case 58: {
      const type = pick(r, [128, 129, 1, 133, 134, 135, 136]);
      return [type, 0, 0, 0, ...be32(0), ...payload];
    }
    default:
      return payload;
  }
}

function ipv4(r: () => number): number[] {
  const proto = pick(r, [6, 6, 17, 17, 1, 132, 47, 2, 89]);
  const opts = r() < 0.15 ? [1, 1, 1, 0] : [];
  let body = l4(r, proto);
  let fragField = 0;
  const fr = r();
  if (fr < 0.08) fragField = 0x2000; // first fragment, more fragments
  else if (fr < 0.16) {
    fragField = Math.floor(r() * 100) + 1; // later fragment: no transport header at its start
    body = bytes(r, 8 + Math.floor(r() * 30));
  } else if (fr < 0.2) fragField = 0x4000; // don't fragment
  const ihl = 5 + opts.length / 4;
  const total = ihl * 4 + body.length;
  const src = r() < 0.8 ? pick(r, IP4S) : `${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.1.1`;
  const dst = r() < 0.8 ? pick(r, IP4S) : `10.${Math.floor(r() * 256)}.0.9`;
  return [0x40 | ihl, 0, ...be16(total), ...be16(Math.floor(r() * 65536)), ...be16(fragField), 64, proto, 0, 0,
    ...ip4(src), ...ip4(dst), ...opts, ...checksumless(body)];
}

function ipv6(r: () => number): number[] {
  let proto = pick(r, [6, 17, 58, 132, 6, 17, 58]);
  let body = l4(r, proto);
  // wrap in extension headers: hop-by-hop (0), routing (43), destination options (60), fragment (44)
  const ext = r();
  if (ext < 0.12) {
    body = [proto, 0, 1, 4, 0, 0, 0, 0, ...body];
    proto = 0;
  } else if (ext < 0.22) {
    body = [proto, 0, 0, 0, ...be16(r() < 0.5 ? 0 : 0x10), ...be32(7), ...body];
    proto = 44;
  } else if (ext < 0.28) {
    body = [proto, 0, 1, 4, 0, 0, 0, 0, ...body];
    proto = 60;
  } else if (ext < 0.32) {
    body = [proto, 0, 0, 0, 0, 0, 0, 0, ...body];
    proto = 43;
  }
  const src = pick(r, IP6S);
  const dst = pick(r, IP6S);
  return [0x60, 0, 0, 0, ...be16(body.length), proto, 64, ...ip6(src), ...ip6(dst), ...body];
}

function arp(r: () => number): number[] {
  return [0, 1, 8, 0, 6, 4, 0, pick(r, [1, 2]), ...mac(pick(r, MACS)), ...ip4(pick(r, IP4S)),
    ...mac(pick(r, MACS)), ...ip4(pick(r, IP4S))];
}

/** frame builds one Ethernet frame (maybe VLAN-tagged) from the generator. */
export function frame(r: () => number): number[] {
  const kind = r();
  let type: number;
  let payload: number[];
  if (kind < 0.45) [type, payload] = [0x0800, ipv4(r)];
  else if (kind < 0.8) [type, payload] = [0x86dd, ipv6(r)];
  else if (kind < 0.88) [type, payload] = [0x0806, arp(r)];
  else if (kind < 0.9) [type, payload] = [0x8035, arp(r)];
  else [type, payload] = [pick(r, [0x88cc, 0x8847, 0x0842, 0x9000, 0x0600]), bytes(r, 30)];
  const tags: number[] = [];
  const v = r();
  if (v < 0.15) tags.push(0x8100, pick(r, [1, 10, 100, 4095, 0x2005]));
  else if (v < 0.2) tags.push(0x88a8, pick(r, [7, 200]), 0x8100, pick(r, [10, 300]));
  else if (v < 0.22) tags.push(0x9100, 10);
  const hdr = [...mac(pick(r, MACS)), ...mac(pick(r, MACS))];
  for (let i = 0; i < tags.length; i += 2) hdr.push(...be16(tags[i]), ...be16(tags[i + 1]));
  return [...hdr, ...be16(type), ...payload];
}

/** makeCorpus builds `n` packets: mostly well-formed, some truncated captures, some tiny/garbage frames. */
export function makeCorpus(seed: number, n: number): PacketLike[] {
  const r = rng(seed);
  const out: PacketLike[] = [];
  for (let i = 0; i < n; i++) {
    let data = frame(r);
    const wire = data.length;
    const t = r();
    if (t < 0.06) data = data.slice(0, Math.floor(r() * data.length)); // truncated capture (snaplen)
    else if (t < 0.08) data = bytes(r, Math.floor(r() * 20)); // runt / garbage
    out.push({ data: Uint8Array.from(data), origLen: Math.max(wire, data.length), tsSec: 1700000000 + i, tsNsec: (i * 1000) % 1e9 });
  }
  return out;
}
