/**
 * Reading classic pcap and pcapng files from bytes. Every field read is bounds-checked;
 * a truncated or corrupt file gives a BpfError naming the byte offset, never a raw exception.
 */
import { BpfError } from '../errors.js';
import {
  Capture, CapturedPacket, MAX_PACKET_LEN, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC, PCAPNG_BYTE_ORDER_MAGIC,
  PCAPNG_EPB, PCAPNG_IDB, PCAPNG_OPB, PCAPNG_SHB, PCAPNG_SPB,
} from './format.js';

/** ReadOptions tune the reader. */
export interface ReadOptions {
  /**
   * lenient: a truncated last record ends the capture instead of failing; the problem is
   * reported in `ReadResult.warning` (tcpdump likewise filters what it could read).
   */
  lenient?: boolean;
}

/** ReadResult is a capture plus a warning when a lenient read stopped early. */
export interface ReadResult extends Capture {
  warning?: BpfError;
}

/** readCapture reads a classic pcap or pcapng file, detected from its magic number. */
export function readCapture(bytes: Uint8Array, opts: ReadOptions = {}): ReadResult {
  if (bytes.length < 4) throw truncated('file header', 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) === PCAPNG_SHB) return readPcapng(bytes, opts);
  return readPcap(bytes, opts);
}

/** truncated is the E_TRUNCATED error for `what` starting at file offset `offset`. */
export function truncated(what: string, offset: number): BpfError {
  return new BpfError('E_TRUNCATED', `truncated capture: ${what} at byte offset ${offset} is incomplete`, { address: offset });
}

/** corrupt is the EINVAL error for a corrupt `what` at file offset `offset`. */
export function corrupt(what: string, offset: number): BpfError {
  return new BpfError('EINVAL', `corrupt capture: ${what} at byte offset ${offset}`, { address: offset });
}

/** readPcap reads a classic pcap file (either byte order, micro- or nanosecond timestamps). */
export function readPcap(bytes: Uint8Array, opts: ReadOptions = {}): ReadResult {
  if (bytes.length < 24) throw truncated('file header', 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = dv.getUint32(0, true);
  const mbe = dv.getUint32(0, false);
  let le: boolean;
  if (m === PCAP_MAGIC_USEC || m === PCAP_MAGIC_NSEC) le = true;
  else if (mbe === PCAP_MAGIC_USEC || mbe === PCAP_MAGIC_NSEC) le = false;
  else throw corrupt(`unknown magic number 0x${mbe.toString(16).padStart(8, '0')} (not a pcap or pcapng file)`, 0);
  const nanosecond = (le ? m : mbe) === PCAP_MAGIC_NSEC;
  const major = dv.getUint16(4, le);
  if (major !== 2) throw corrupt(`unsupported pcap version ${major}.${dv.getUint16(6, le)}`, 4);
  const snaplen = dv.getUint32(16, le);
  const linktype = dv.getUint32(20, le) & 0x03ffffff; // upper bits carry FCS information
  const cap: ReadResult = { format: 'pcap', linktype, snaplen, nanosecond, packets: [] };
  const mult = nanosecond ? 1 : 1000;
  let p = 24;
  try {
    while (p < bytes.length) {
      if (p + 16 > bytes.length) throw truncated('record header', p);
      const incl = dv.getUint32(p + 8, le);
      const orig = dv.getUint32(p + 12, le);
      if (incl > MAX_PACKET_LEN) throw corrupt(`record length ${incl} is implausible`, p + 8);
      if (p + 16 + incl > bytes.length) throw truncated(`packet record of ${incl} bytes`, p);
      const frac = dv.getUint32(p + 4, le);
      cap.packets.push({
        data: bytes.subarray(p + 16, p + 16 + incl), origLen: orig, tsSec: dv.getUint32(p, le),
        tsNsec: frac * mult, linktype, iface: 0,
      });
      p += 16 + incl;
    }
  } catch (e) {
    if (!opts.lenient || !(e instanceof BpfError) || e.code !== 'E_TRUNCATED') throw e;
    cap.warning = e;
  }
  return cap;
}

interface Iface {
  linktype: number;
  snaplen: number;
  /** timestamp units per second */
  unitsPerSec: bigint;
}

interface NgState {
  bytes: Uint8Array;
  dv: DataView;
  le: boolean;
  ifaces: Iface[];
  cap: ReadResult;
}

/** readPcapng reads a pcapng file: SHB, IDB, EPB, SPB and the obsolete PB; other blocks are skipped. */
export function readPcapng(bytes: Uint8Array, opts: ReadOptions = {}): ReadResult {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const st: NgState = {
    bytes, dv, le: true, ifaces: [],
    cap: { format: 'pcapng', linktype: -1, snaplen: 0, nanosecond: false, packets: [] },
  };
  let p = 0;
  try {
    while (p < bytes.length) p = readBlock(st, p);
  } catch (e) {
    if (!opts.lenient || !(e instanceof BpfError) || e.code !== 'E_TRUNCATED') throw e;
    st.cap.warning = e;
  }
  if (st.cap.linktype < 0) {
    if (st.cap.warning) throw st.cap.warning;
    st.cap.linktype = 1;
  }
  return st.cap;
}

function readBlock(st: NgState, p: number): number {
  const { bytes, dv } = st;
  if (p + 12 > bytes.length) throw truncated('block header', p);
  const type = dv.getUint32(p, st.le);
  if (type === PCAPNG_SHB) readShb(st, p);
  else if (p === 0) throw corrupt('pcapng file does not start with a section header block', 0);
  const len = dv.getUint32(p + 4, st.le);
  if (len < 12 || len % 4 !== 0) throw corrupt(`block length ${len} is invalid`, p + 4);
  if (p + len > bytes.length) throw truncated(`block of ${len} bytes`, p);
  if (dv.getUint32(p + len - 4, st.le) !== len) throw corrupt('block trailing length does not match', p + len - 4);
  const body = p + 8;
  const end = p + len - 4;
  switch (type) {
    case PCAPNG_IDB: readIdb(st, body, end); break;
    case PCAPNG_EPB: readEpb(st, body, end, false); break;
    case PCAPNG_OPB: readEpb(st, body, end, true); break;
    case PCAPNG_SPB: readSpb(st, body, end); break;
    default: break; // name resolution, statistics, custom blocks: not needed for filtering
  }
  return p + len;
}

function readShb(st: NgState, p: number): void {
  const { dv } = st;
  if (p + 12 > st.bytes.length) throw truncated('section header block', p);
  const bom = dv.getUint32(p + 8, true);
  if (bom === PCAPNG_BYTE_ORDER_MAGIC) st.le = true;
  else if (dv.getUint32(p + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) st.le = false;
  else throw corrupt('bad byte-order magic in section header block', p + 8);
  st.ifaces = []; // interface ids are per section
}

function readIdb(st: NgState, body: number, end: number): void {
  const { dv, le } = st;
  if (body + 8 > end) throw corrupt('interface description block too short', body);
  const iface: Iface = { linktype: dv.getUint16(body, le), snaplen: dv.getUint32(body + 4, le), unitsPerSec: 1000000n };
  forEachOption(st, body + 8, end, (code, at, len) => {
    if (code === 9 && len >= 1) {
      const r = st.bytes[at];
      iface.unitsPerSec = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r & 0x7f);
    }
  });
  if (st.cap.linktype < 0) {
    st.cap.linktype = iface.linktype;
    st.cap.snaplen = iface.snaplen;
  }
  st.ifaces.push(iface);
}

function forEachOption(st: NgState, p: number, end: number, fn: (code: number, at: number, len: number) => void): void {
  while (p + 4 <= end) {
    const code = st.dv.getUint16(p, st.le);
    const len = st.dv.getUint16(p + 2, st.le);
    if (code === 0) return;
    if (p + 4 + len > end) throw corrupt(`option ${code} overruns its block`, p);
    fn(code, p + 4, len);
    p += 4 + ((len + 3) & ~3);
  }
}

function iface(st: NgState, id: number, at: number): Iface {
  const f = st.ifaces[id];
  if (!f) throw corrupt(`packet refers to undefined interface ${id}`, at);
  return f;
}

function readEpb(st: NgState, body: number, end: number, obsolete: boolean): void {
  const { dv, le } = st;
  if (body + 20 > end) throw corrupt('packet block too short', body);
  const id = obsolete ? dv.getUint16(body, le) : dv.getUint32(body, le);
  const f = iface(st, id, body);
  const units = (BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le));
  const caplen = dv.getUint32(body + 12, le);
  const orig = dv.getUint32(body + 16, le);
  if (body + 20 + caplen > end) throw corrupt(`captured length ${caplen} overruns its block`, body + 12);
  const sec = units / f.unitsPerSec;
  const nsec = ((units % f.unitsPerSec) * 1000000000n) / f.unitsPerSec;
  pushPacket(st, body + 20, caplen, orig, Number(sec), Number(nsec), f, id);
}

function readSpb(st: NgState, body: number, end: number): void {
  if (body + 4 > end) throw corrupt('simple packet block too short', body);
  const f = iface(st, 0, body);
  const orig = st.dv.getUint32(body, st.le);
  const caplen = Math.min(orig, f.snaplen || orig, end - body - 4);
  pushPacket(st, body + 4, caplen, orig, 0, 0, f, 0);
}

function pushPacket(st: NgState, at: number, caplen: number, orig: number, sec: number, nsec: number, f: Iface, id: number): void {
  const p: CapturedPacket = { data: st.bytes.subarray(at, at + caplen), origLen: orig, tsSec: sec, tsNsec: nsec, linktype: f.linktype, iface: id };
  st.cap.packets.push(p);
}

/** PcapScan describes a classic pcap file walked record by record. */
export interface PcapScan {
  linktype: number;
  snaplen: number;
  nanosecond: boolean;
  littleEndian: boolean;
  /** set when a lenient scan stopped at a truncated record */
  warning?: BpfError;
}

/**
 * scanPcap walks a classic pcap file without building packet objects, calling `fn` with each
 * record's offset, its data offset, captured and wire length: the fast path for filtering large
 * files. Errors are as readPcap's.
 */
export function scanPcap(bytes: Uint8Array, fn: (rec: number, data: number, caplen: number, origLen: number) => void,
  opts: ReadOptions = {}): PcapScan {
  const head = readPcap(bytes.subarray(0, 24));
  const le = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === PCAP_MAGIC_USEC ||
    new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === PCAP_MAGIC_NSEC;
  const scan: PcapScan = { linktype: head.linktype, snaplen: head.snaplen, nanosecond: head.nanosecond, littleEndian: le };
  const u32 = le
    ? (p: number): number => (bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24)) >>> 0
    : (p: number): number => ((bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3]) >>> 0;
  const n = bytes.length;
  let p = 24;
  while (p < n) {
    if (p + 16 > n) return stop(scan, truncated('record header', p), opts);
    const incl = u32(p + 8);
    if (incl > MAX_PACKET_LEN) throw corrupt(`record length ${incl} is implausible`, p + 8);
    if (p + 16 + incl > n) return stop(scan, truncated(`packet record of ${incl} bytes`, p), opts);
    fn(p, p + 16, incl, u32(p + 12));
    p += 16 + incl;
  }
  return scan;
}

function stop(scan: PcapScan, e: BpfError, opts: ReadOptions): PcapScan {
  if (!opts.lenient) throw e;
  scan.warning = e;
  return scan;
}
