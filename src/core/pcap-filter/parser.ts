/**
 * The pcap-filter parser. Like libpcap's grammar: `and` and `or` have the same precedence and
 * associate to the left, `not` binds tighter, a bare value after and/or reuses the previous
 * primitive's qualifiers (`host a or b`), and code is generated as primitives are parsed, so a
 * `vlan` shifts the offsets of everything that follows it.
 */
import type { Arith, LoadProto, Relop } from './arith.js';
import { relation } from './arith.js';
import { BExpr, and, not, or } from './ir.js';
import { Dir, Gen } from './gen.js';
import { Token, filterError, isMac, parseIPv4Full, parseIPv6, tokenize } from './lexer.js';
import { ARITH_NAMES, ETHER_PROTOS, IP_PROTOS, SERVICES } from './names.js';
import * as c from '../cbpf/opcodes.js';

const PROTO_QUALS = ['ether', 'link', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'sctp', 'icmp', 'icmp6', 'igmp'];
const LOAD_PROTOS = ['ether', 'link', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'igmp', 'icmp6'];
const TYPES = ['host', 'net', 'port', 'portrange', 'proto'];
const RELOPS = ['>', '<', '>=', '<=', '=', '==', '!='];
const UNSUPPORTED = ['gateway', 'inbound', 'outbound', 'mpls', 'pppoed', 'pppoes', 'geneve', 'vxlan', 'protochain',
  'ifname', 'on', 'rnr', 'rulenum', 'reason', 'rset', 'ruleset', 'srnr', 'subrulenum', 'action', 'wlan', 'type',
  'subtype', 'dir', 'atalk', 'decnet', 'iso', 'stp', 'ipx', 'netbeui', 'lat', 'sca', 'moprc', 'mopdl', 'llc',
  'fddi', 'tr', 'ah', 'esp', 'pim', 'vrrp', 'carp', 'igrp', 'clnp', 'esis', 'isis', 'l1', 'l2', 'iih', 'lsp',
  'snp', 'csnp', 'psnp', 'radio', 'hdlc', 'slip', 'ppp', 'ifindex', 'fisu', 'lssu', 'msu'];
const KEYWORDS = new Set(['and', 'or', 'not', 'len', 'vlan', 'less', 'greater', 'broadcast', 'multicast', 'src', 'dst',
  'mask', ...PROTO_QUALS, ...TYPES]);

/** Merge records how to rebuild a primitive with more values (`host a or b` becomes one test set). */
interface Merge {
  key: string;
  values: number[][];
  rebuild(values: number[][]): BExpr;
}

interface Quals {
  proto?: string;
  dir?: Dir;
  type?: string;
}

/** parseNumber reads a libpcap number (decimal, 0x hex, 0-prefixed octal), or returns null. */
export function parseNumber(text: string): number | null {
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(text)) v = parseInt(text.slice(2), 16);
  else if (/^0[0-7]*$/.test(text)) v = parseInt(text, 8);
  else if (/^[1-9][0-9]*$/.test(text)) v = parseInt(text, 10);
  else return null;
  return v <= 0xffffffff ? v : null;
}

/** Parser turns tokens into the boolean form, generating code as it goes. */
export class Parser {
  private pos = 0;
  private readonly toks: Token[];
  private g = new Gen();
  private last: Quals = {};
  private merges = new WeakMap<BExpr, Merge>();

  constructor(src: string) {
    this.toks = tokenize(src);
  }

  private peek(n = 0): Token {
    return this.toks[Math.min(this.pos + n, this.toks.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private isWord(t: Token, ...words: string[]): boolean {
    return t.kind === 'word' && !t.escaped && words.includes(t.text.toLowerCase());
  }

  private isOp(t: Token, ...ops: string[]): boolean {
    return t.kind === 'op' && ops.includes(t.text);
  }

  private expectOp(op: string): Token {
    const t = this.peek();
    if (!this.isOp(t, op)) throw filterError(`expected "${op}" but found ${describe(t)}`, t.col);
    return this.next();
  }

  /** parse reads the whole expression; an empty expression matches every packet. */
  parse(): BExpr {
    if (this.peek().kind === 'eof') return { t: 'const', v: true };
    const e = this.expr();
    const t = this.peek();
    if (t.kind !== 'eof') throw filterError(`unexpected ${describe(t)}`, t.col);
    return e;
  }

  private expr(): BExpr {
    let left = this.term();
    for (;;) {
      const t = this.peek();
      if (this.isWord(t, 'and') || this.isOp(t, '&&')) {
        this.next();
        left = and(left, this.term());
      } else if (this.isWord(t, 'or') || this.isOp(t, '||')) {
        this.next();
        left = this.mergeOr(left, this.term());
      } else return left;
    }
  }

  /**
   * mergeOr joins two alternatives; equality primitives with the same qualifiers and offsets are
   * merged into one primitive over both value sets, reproducing the evaluation order libpcap's
   * optimizer produces (it matters when a later field lies beyond the captured bytes).
   */
  private mergeOr(a: BExpr, b: BExpr): BExpr {
    const ma = this.merges.get(a);
    const mb = this.merges.get(b);
    if (!ma || !mb || ma.key !== mb.key) return or(a, b);
    const e = ma.rebuild([...ma.values, ...mb.values]);
    this.merges.set(e, { ...ma, values: [...ma.values, ...mb.values] });
    return e;
  }

  private mergeable(key: string, values: number[][], rebuild: (v: number[][]) => BExpr): BExpr {
    const off = { ...this.g.off };
    const build = (v: number[][]): BExpr => {
      const saved = this.g.off;
      this.g.off = off;
      try {
        return rebuild(v);
      } finally {
        this.g.off = saved;
      }
    };
    const e = build(values);
    this.merges.set(e, { key: `${key}@${off.linkPl}`, values, rebuild: build });
    return e;
  }

  private term(): BExpr {
    const t = this.peek();
    if (this.isWord(t, 'not') || this.isOp(t, '!')) {
      this.next();
      return not(this.term());
    }
    if (this.isOp(t, '(')) return this.parenthesised();
    if (this.startsArith()) return this.relation();
    if (t.kind !== 'word') throw filterError(`expected a primitive but found ${describe(t)}`, t.col);
    return this.primitive();
  }

  /** parenthesised tries "(arith) relop arith" first, then "(expr)"; the error that got further wins. */
  private parenthesised(): BExpr {
    const save = { pos: this.pos, off: { ...this.g.off }, last: { ...this.last } };
    let first: unknown;
    try {
      return this.relation();
    } catch (e) {
      first = e;
    }
    this.pos = save.pos;
    this.g.off = save.off;
    this.last = save.last;
    try {
      this.expectOp('(');
      const e = this.expr();
      this.expectOp(')');
      return e;
    } catch (e) {
      throw colOf(e) >= colOf(first) ? e : first;
    }
  }

  private startsArith(): boolean {
    const t = this.peek();
    const n = this.peek(1);
    if (this.isOp(t, '-')) return true;
    if (t.kind !== 'word' || t.escaped) return false;
    const w = t.text.toLowerCase();
    if (w === 'len' || (w in ARITH_NAMES && !PROTO_QUALS.includes(w))) return true;
    if (LOAD_PROTOS.includes(w) && this.isOp(n, '[')) return true;
    return parseNumber(t.text) !== null && n.kind === 'op' && !this.isOp(n, '(', ')', '!', '[', ']', ':');
  }

  private relation(): BExpr {
    const lhs = this.arith();
    const t = this.peek();
    if (t.kind !== 'op' || !RELOPS.includes(t.text)) throw filterError(`expected a comparison (>, <, =, != ...) but found ${describe(t)}`, t.col);
    this.next();
    const rhs = this.arith();
    return relation(this.g, lhs, t.text as Relop, rhs, t.col);
  }

  // arithmetic, lowest precedence first: | ^, &, << >>, + -, * / %, unary -
  private arith(): Arith { return this.binary(0); }

  private static readonly LEVELS = [['|', '^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

  private binary(level: number): Arith {
    if (level >= Parser.LEVELS.length) return this.unary();
    let a = this.binary(level + 1);
    while (this.isOp(this.peek(), ...Parser.LEVELS[level])) {
      const op = this.next();
      a = fold({ t: 'bin', op: op.text, a, b: this.binary(level + 1), col: op.col });
    }
    return a;
  }

  private unary(): Arith {
    if (this.isOp(this.peek(), '-')) {
      this.next();
      const a = this.unary();
      return a.t === 'num' ? { t: 'num', v: (-a.v) >>> 0 } : { t: 'neg', a };
    }
    return this.arithPrimary();
  }

  private arithPrimary(): Arith {
    const t = this.next();
    if (this.isOp(t, '(')) {
      const a = this.arith();
      this.expectOp(')');
      return a;
    }
    if (t.kind !== 'word') throw filterError(`expected a number or packet field but found ${describe(t)}`, t.col);
    const w = t.text.toLowerCase();
    if (w === 'len') return { t: 'len' };
    if (LOAD_PROTOS.includes(w) && this.isOp(this.peek(), '[')) return this.loadExpr(w, t);
    if (w in ARITH_NAMES) return { t: 'num', v: ARITH_NAMES[w] };
    const v = parseNumber(t.text);
    if (v === null) throw filterError(`"${t.text}" is not a number`, t.col);
    return { t: 'num', v };
  }

  private loadExpr(w: string, t: Token): Arith {
    this.expectOp('[');
    const idx = this.arith();
    let size = 1;
    if (this.isOp(this.peek(), ':')) {
      this.next();
      const st = this.next();
      size = Number(st.text);
      if (![1, 2, 4].includes(size) || st.kind !== 'word') throw filterError('data size must be 1, 2 or 4', st.col);
    }
    this.expectOp(']');
    const proto = (w === 'link' ? 'ether' : w) as LoadProto;
    return { t: 'load', proto, idx, size, col: t.col };
  }

  private primitive(): BExpr {
    const t = this.peek();
    const w = t.text.toLowerCase();
    if (!t.escaped) {
      const special = this.special(w, t);
      if (special) return special;
      if (UNSUPPORTED.includes(w)) throw filterError(`"${t.text}" is not supported by the built-in compiler (use --via-tcpdump)`, t.col);
    }
    const q: Quals = {};
    if (this.isWord(t, ...PROTO_QUALS)) {
      q.proto = this.next().text.toLowerCase();
      const s = this.peek();
      if (this.isWord(s, 'broadcast', 'multicast')) return this.castPrimitive(q.proto, this.next());
    }
    this.parseDir(q);
    if (this.isWord(this.peek(), ...TYPES)) q.type = this.next().text.toLowerCase();
    const idTok = this.peek();
    const hasId = idTok.kind === 'word' && (idTok.escaped || !KEYWORDS.has(idTok.text.toLowerCase()));
    if (q.proto && !q.dir && !q.type && !hasId) return this.protoAbbrev(q.proto, t);
    if (!hasId) throw filterError(`expected a value after "${this.toks[this.pos - 1]?.text ?? ''}" but found ${describe(idTok)}`, idTok.col);
    this.next();
    const quals = q.proto || q.dir || q.type ? q : this.last;
    this.last = quals;
    return this.build(quals, idTok);
  }

  private special(w: string, t: Token): BExpr | null {
    const g = this.g;
    switch (w) {
      case 'vlan': {
        this.next();
        const n = this.peek();
        const id = n.kind === 'word' ? parseNumber(n.text) : null;
        if (id === null) return g.vlan();
        this.next();
        if (id > 4095) throw filterError(`VLAN tag ${id} greater than maximum 4095`, n.col);
        return g.vlan(id);
      }
      case 'less':
      case 'greater': {
        this.next();
        const n = this.next();
        const v = parseNumber(n.text);
        if (v === null || n.kind !== 'word') throw filterError(`expected a length after "${w}"`, n.col);
        return w === 'less' ? not(g.lenTest(c.BPF_JGT, v)) : g.lenTest(c.BPF_JGE, v);
      }
      case 'broadcast':
      case 'multicast':
        return this.castPrimitive('ether', this.next());
      default:
        void t;
        return null;
    }
  }

  private castPrimitive(proto: string, t: Token): BExpr {
    const bc = t.text.toLowerCase() === 'broadcast';
    if (proto === 'ether' || proto === 'link') return bc ? this.g.etherBroadcast() : this.g.etherMulticast();
    if (proto === 'ip' && !bc) return this.g.ipMulticast();
    if (proto === 'ip6' && !bc) return this.g.ip6Multicast();
    if (proto === 'ip' && bc) throw filterError('"ip broadcast" needs the network mask (use --via-tcpdump)', t.col);
    throw filterError(`"${t.text}" cannot be applied to ${proto}`, t.col);
  }

  private parseDir(q: Quals): void {
    const t = this.peek();
    if (!this.isWord(t, 'src', 'dst')) return;
    this.next();
    const first = t.text.toLowerCase() as 'src' | 'dst';
    const conj = this.peek();
    const other = this.peek(1);
    if (this.isWord(conj, 'or', 'and') && this.isWord(other, first === 'src' ? 'dst' : 'src')) {
      this.next();
      this.next();
      q.dir = conj.text.toLowerCase() === 'or' ? 'or' : 'and';
    } else q.dir = first;
  }

  private protoAbbrev(proto: string, t: Token): BExpr {
    const g = this.g;
    switch (proto) {
      case 'ip': return g.ip();
      case 'ip6': return g.ip6();
      case 'arp': return g.arp();
      case 'rarp': return g.rarp();
      case 'tcp': return g.anyProto(6);
      case 'udp': return g.anyProto(17);
      case 'sctp': return g.anyProto(132);
      case 'icmp': return g.ipProto(1);
      case 'igmp': return g.ipProto(2);
      case 'icmp6': return g.ip6Proto(58);
      default: throw filterError(`"${proto}" needs a qualifier or value`, t.col);
    }
  }

  private build(q: Quals, id: Token): BExpr {
    const type = q.type ?? 'host';
    const dir = q.dir ?? 'or';
    switch (type) {
      case 'host': return this.host(q, dir, id);
      case 'net': return this.net(q, dir, id);
      case 'port': return this.port(q, dir, id, false);
      case 'portrange': return this.port(q, dir, id, true);
      default: return this.protoValue(q, id);
    }
  }

  private host(q: Quals, dir: Dir, id: Token): BExpr {
    const text = id.text;
    if (isMac(text)) {
      if (q.proto && q.proto !== 'ether' && q.proto !== 'link') throw filterError(`"${q.proto}" cannot be applied to a MAC address`, id.col);
      return this.g.etherHost(text.split(':').map((h) => parseInt(h, 16)), dir);
    }
    if (q.proto === 'ether' || q.proto === 'link') throw filterError(`"${text}" is not a MAC address`, id.col);
    const v6 = parseIPv6(text);
    if (v6) {
      if (q.proto && q.proto !== 'ip6') throw filterError(`"${q.proto}" cannot be applied to an IPv6 address`, id.col);
      return this.g.host6(v6, 128, dir);
    }
    const v4 = parseIPv4Full(text);
    if (v4) {
      const proto = this.v4Proto(q, id);
      return this.mergeable(`host4/${proto}/${dir}`, [[bytesToU32(v4)]], (v) => this.g.host4(v.map((x) => x[0]), 0xffffffff, dir, proto));
    }
    throw filterError(`unknown host "${text}" (host names are not resolved; use an address or --via-tcpdump)`, id.col);
  }

  private v4Proto(q: Quals, id: Token): 'ip' | 'arp' | 'rarp' | undefined {
    if (!q.proto) return undefined;
    if (q.proto === 'ip' || q.proto === 'arp' || q.proto === 'rarp') return q.proto;
    throw filterError(`"${q.proto}" cannot be applied to a host or net`, id.col);
  }

  private net(q: Quals, dir: Dir, id: Token): BExpr {
    const v6 = parseIPv6(id.text);
    if (v6) {
      if (q.proto && q.proto !== 'ip6') throw filterError(`"${q.proto}" cannot be applied to an IPv6 network`, id.col);
      let bits = 128;
      if (this.isOp(this.peek(), '/')) bits = this.prefixLen(128);
      const mask = Array.from({ length: 16 }, (_, i) => (0xff << (8 - Math.max(0, Math.min(8, bits - 8 * i)))) & 0xff);
      if (v6.some((b, i) => (b & ~mask[i]) !== 0)) throw filterError(`non-network bits set in "${id.text}/${bits}"`, id.col);
      return this.g.host6(v6, bits, dir);
    }
    const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?$/.exec(id.text);
    if (!m) throw filterError(`"${id.text}" is not a network address`, id.col);
    const octets = m.slice(1).filter((x) => x !== undefined).map(Number);
    if (octets.some((o) => o > 255)) throw filterError(`"${id.text}" is not a network address`, id.col);
    const addr = bytesToU32([...octets, 0, 0, 0].slice(0, 4));
    let mask = octets.length === 4 ? 0xffffffff : (~0 << (32 - 8 * octets.length)) >>> 0;
    if (this.isOp(this.peek(), '/')) {
      const bits = this.prefixLen(32);
      mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    } else if (this.isWord(this.peek(), 'mask')) {
      this.next();
      const mt = this.next();
      const mb = parseIPv4Full(mt.text);
      if (!mb) throw filterError(`"${mt.text}" is not a netmask`, mt.col);
      mask = bytesToU32(mb);
    }
    if ((addr & ~mask) !== 0) throw filterError(`non-network bits set in "${id.text}"`, id.col);
    return this.g.host4([addr], mask, dir, this.v4Proto(q, id));
  }

  private prefixLen(max: number): number {
    this.next();
    const t = this.next();
    const v = parseNumber(t.text);
    if (v === null || t.kind !== 'word' || v > max) throw filterError(`bad prefix length "${t.text}" (0..${max})`, t.col);
    return v;
  }

  private port(q: Quals, dir: Dir, id: Token, range: boolean): BExpr {
    let proto: number | undefined;
    if (q.proto === 'tcp') proto = 6;
    else if (q.proto === 'udp') proto = 17;
    else if (q.proto === 'sctp') proto = 132;
    else if (q.proto) throw filterError(`"${q.proto}" cannot be applied to a port`, id.col);
    const parts = range ? id.text.split('-') : [id.text];
    if (range && parts.length !== 2) throw filterError(`"${id.text}" is not a port range (lo-hi)`, id.col);
    const ports = parts.map((p) => {
      const [n, sp] = this.portValue(p, id);
      if (sp !== undefined) {
        if (proto !== undefined && proto !== sp) throw filterError(`port "${p}" is not a ${q.proto} service`, id.col);
        proto = sp;
      }
      return n;
    });
    if (ports.length === 1) {
      const p = proto;
      return this.mergeable(`port/${p}/${dir}`, [[ports[0]]], (v) => this.g.port(v.map((x) => [x[0], x[0]]), p, dir));
    }
    return this.g.port([[Math.min(ports[0], ports[1]), Math.max(ports[0], ports[1])]], proto, dir);
  }

  private portValue(text: string, id: Token): [number, number | undefined] {
    const n = parseNumber(text);
    if (n !== null) {
      if (n > 65535) throw filterError(`illegal port number ${n} > 65535`, id.col);
      return [n, undefined];
    }
    const s = SERVICES[text.toLowerCase()];
    if (!s) throw filterError(`unknown port "${text}"`, id.col);
    return [s[0], s[1] === 'tcp' ? 6 : s[1] === 'udp' ? 17 : undefined];
  }

  private protoValue(q: Quals, id: Token): BExpr {
    const name = id.text.toLowerCase();
    const num = parseNumber(id.text);
    if (q.proto === 'ether' || q.proto === 'link') {
      const v = num ?? ETHER_PROTOS[name];
      if (v === undefined) throw filterError(`unknown ether proto "${id.text}"`, id.col);
      if (v <= 1500) throw filterError(`ether proto ${v} (an 802.3 length) needs LLC matching; use --via-tcpdump`, id.col);
      if (v > 0xffff) throw filterError(`ether proto ${v} is larger than 16 bits`, id.col);
      return this.g.ethertype(v);
    }
    const v = num ?? IP_PROTOS[name];
    if (v === undefined) throw filterError(`unknown protocol "${id.text}"`, id.col);
    if (v > 255) throw filterError(`protocol ${v} is larger than 255`, id.col);
    if (q.proto === 'ip') return this.g.ipProto(v);
    if (q.proto === 'ip6') return this.g.ip6Proto(v);
    if (q.proto) throw filterError(`"${q.proto}" cannot be applied to proto`, id.col);
    return this.g.anyProto(v);
  }
}

function bytesToU32(b: number[]): number {
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

function describe(t: Token): string {
  return t.kind === 'eof' ? 'end of expression' : `"${t.text}"`;
}

function colOf(e: unknown): number {
  return (e as { context?: { column?: number } })?.context?.column ?? 0;
}

/** fold evaluates operations on two constants at compile time (as libpcap does). */
function fold(a: Extract<Arith, { t: 'bin' }>): Arith {
  if (a.a.t !== 'num' || a.b.t !== 'num') return a;
  const x = a.a.v;
  const y = a.b.v;
  const v = ((): number => {
    switch (a.op) {
      case '+': return x + y;
      case '-': return x - y;
      case '*': return Math.imul(x, y);
      case '/': if (y === 0) throw filterError('division by zero', a.col); return Math.floor(x / y);
      case '%': if (y === 0) throw filterError('modulus by zero', a.col); return x % y;
      case '&': return x & y;
      case '|': return x | y;
      case '^': return x ^ y;
      case '<<': return y >= 32 ? 0 : x << y;
      default: return y >= 32 ? 0 : x >>> y;
    }
  })();
  return { t: 'num', v: v >>> 0 };
}
