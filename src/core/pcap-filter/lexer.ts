/**
 * Tokens of pcap-filter expressions. Words follow libpcap's scanner: a word starts with a
 * letter or digit and may contain '-', '_' and '.' (so "tcp-syn", "10.1.2.3" and "1-1023" are
 * single words); MAC and IPv6 addresses, which contain ':', are recognised as whole words.
 * Every token carries its 1-based column for error messages.
 */
import { BpfError } from '../errors.js';

/** TokenKind distinguishes words (names, numbers, addresses) from operators. */
export type TokenKind = 'word' | 'op' | 'eof';

/** Token is one lexeme with its position. */
export interface Token {
  kind: TokenKind;
  text: string;
  /** 1-based column of the first character */
  col: number;
  /** true when the word was written with a leading backslash (\tcp) */
  escaped?: boolean;
}

const OPS2 = ['&&', '||', '<<', '>>', '<=', '>=', '==', '!='];
const OPS1 = '()[]:!&|^+-*/%=<>';

/** filterError builds the BpfError for a problem at a column of the expression. */
export function filterError(msg: string, col: number): BpfError {
  return new BpfError('EINVAL', `filter expression: ${msg}`, { line: 1, column: col });
}

const MAC_RE = /^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/i;

/** isIPv6 tells whether text is an IPv6 address (with optional :: and an embedded IPv4 tail). */
export function isIPv6(text: string): boolean {
  return parseIPv6(text) !== null;
}

/** isMac tells whether text is a colon-separated MAC address. */
export function isMac(text: string): boolean {
  return MAC_RE.test(text);
}

/** parseIPv6 returns the 16 bytes of an IPv6 address, or null. */
export function parseIPv6(text: string): number[] | null {
  if (!/^[0-9a-f:.]+$/i.test(text) || !text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === '') return [];
    const groups: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4Full(p);
        if (!v4) return null;
        groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-f]{1,4}$/i.test(p)) groups.push(parseInt(p, 16));
      else return null;
    }
    return groups;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** parseIPv4Full returns the 4 bytes of a dotted quad, or null. */
export function parseIPv4Full(text: string): number[] | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : null;
}

/** tokenize splits an expression into tokens; an unexpected character is an error with its column. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) { i++; continue; }
    const col = i + 1;
    if (ch === '\\') {
      const w = word(src, i + 1);
      if (!w) throw filterError('backslash must be followed by a name', col);
      out.push({ kind: 'word', text: w, col, escaped: true });
      i += 1 + w.length;
      continue;
    }
    const w = word(src, i);
    if (w) {
      out.push({ kind: 'word', text: w, col });
      i += w.length;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (OPS2.includes(two)) { out.push({ kind: 'op', text: two, col }); i += 2; continue; }
    if (OPS1.includes(ch)) { out.push({ kind: 'op', text: ch, col }); i++; continue; }
    throw filterError(`unexpected character "${ch}"`, col);
  }
  out.push({ kind: 'eof', text: '', col: src.length + 1 });
  return out;
}

/** word returns the word starting at i ("" when none): a MAC/IPv6 address if one is there, else a plain word. */
function word(src: string, i: number): string {
  const long = /^[0-9A-Za-z_.:-]+/.exec(src.slice(i))?.[0] ?? '';
  if (long.includes(':')) {
    // the longest prefix that is an address wins ("fe80::1" in "fe80::1/64", "::1" ...)
    for (let n = long.length; n > 0; n--) {
      const cand = long.slice(0, n);
      if (isMac(cand) || isIPv6(cand)) return cand;
    }
  }
  const m = /^[0-9A-Za-z](?:[-_.0-9A-Za-z]*[.0-9A-Za-z])?/.exec(src.slice(i));
  return m ? m[0] : '';
}
