/**
 * Map keys and values shown through their BTF type, the way `bpftool map dump` shows them:
 * structs as objects, arrays as lists, char arrays holding a C string as strings, enums by
 * enumerator name, bitfields and 128-bit integers in hex, pointers as addresses. `btfValue`
 * builds a small tree; `formatBtfJson` prints it with bpftool's JSON writer layout and
 * `btfValueToJs` turns it into ordinary data.
 */
import { BpfError } from '../errors.js';
import { Btf, BtfInt, BtfComposite, BtfArray, BtfEnum } from './types.js';
import { typeById, typeSize, skipQualifiers, MAX_RESOLVE_DEPTH } from './query.js';

/** BtfValue is a decoded value; `num` keeps the text bpftool prints (decimal or 0x hex). */
export type BtfValue =
  | { kind: 'num'; text: string }
  | { kind: 'str'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'arr'; items: BtfValue[] }
  | { kind: 'obj'; fields: [string, BtfValue][] };

interface Ctx { btf: Btf; data: Uint8Array; le: boolean; depth: number; plain: boolean; nodes: number; maxNodes: number }

/**
 * btfValue decodes `data` as type `id`; `littleEndian` defaults to the BTF's byte order.
 * `plain` (default) gives bpftool's plain-text values; false gives its `-j` ones, where hex
 * numbers (bitfields, 128-bit integers) are quoted strings and pointers are decimal.
 */
export function btfValue(btf: Btf, id: number, data: Uint8Array, littleEndian = btf.littleEndian, plain = true): BtfValue {
  const size = typeSize(btf, id);
  if (data.length < size) throw new BpfError('E_BTF', `value of ${size} bytes expected, got ${data.length}`);
  // Leaves of a real value cover distinct bytes (unions and empty structs aside); corrupt BTF
  // (zero-size elements in a huge array, a DAG of structs reusing each other) could expand
  // without end, so the walk is bounded by the value's size.
  return walk({ btf, data, le: littleEndian, depth: 0, plain, nodes: 0, maxNodes: 16 * data.length + 65536 }, id, 0, 0);
}

function walk(c: Ctx, id: number, byteOff: number, bitOff: number): BtfValue {
  if (c.depth > MAX_RESOLVE_DEPTH * 4) throw new BpfError('E_BTF', 'type nesting too deep');
  if (++c.nodes > c.maxNodes) throw new BpfError('E_BTF', `value of type [${id}] has more than ${c.maxNodes} parts for ${c.data.length} bytes`);
  const t = typeById(c.btf, id);
  c.depth++;
  try {
    switch (t.kind) {
      case 'int': return intValue(c, t, byteOff, bitOff);
      case 'struct': case 'union': return composite(c, t, byteOff);
      case 'array': return array(c, t, byteOff);
      case 'enum': case 'enum64': return enumValue(c, t, byteOff);
      case 'ptr': {
        const v = readUint(c, byteOff, 8);
        if (!c.plain) return num(v.toString());
        return num(v === 0n ? '(nil)' : `0x${v.toString(16)}`);
      }
      case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
        return walk(c, skipQualifiers(c.btf, id).id, byteOff, bitOff);
      case 'var':
        return { kind: 'obj', fields: [[t.name, walk(c, t.type, byteOff, bitOff)]] };
      case 'datasec':
        return { kind: 'obj', fields: [[t.name, { kind: 'arr', items: t.vars.map((s) => walk(c, s.type, byteOff + s.offset, 0)) }]] };
      case 'float': return floatValue(c, t.size, byteOff);
      default:
        throw new BpfError('E_BTF', `cannot show a value of kind ${t.kind} (type [${id}])`);
    }
  } finally {
    c.depth--;
  }
}

function num(text: string): BtfValue {
  return { kind: 'num', text };
}

// hex is a number bpftool prints in hex: bare in plain text, a quoted string in JSON.
function hex(c: Ctx, v: bigint | number): BtfValue {
  const text = `0x${v.toString(16)}`;
  return c.plain ? num(text) : { kind: 'str', value: text };
}

function bytesAt(c: Ctx, off: number, len: number): Uint8Array {
  // Member offsets are u32 bit counts: a corrupt one must not wrap into a negative byte offset.
  if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len < 0 || off + len > c.data.length) throw new BpfError('E_BTF', `value field at byte ${off} (+${len}) is outside ${c.data.length} bytes`);
  return c.data.subarray(off, off + len);
}

function readUint(c: Ctx, off: number, len: number): bigint {
  const b = bytesAt(c, off, len);
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(b[c.le ? len - 1 - i : i]);
  return v;
}

// bitfield extracts `bits` bits starting `bitOff` bits into the byte at `off` (storage order).
function bitfield(c: Ctx, off: number, bitOff: number, bits: number): bigint {
  const nbytes = Math.ceil((bitOff + bits) / 8);
  const raw = readUint(c, off, nbytes);
  const shift = c.le ? BigInt(bitOff) : BigInt(nbytes * 8 - bitOff - bits);
  return (raw >> shift) & ((1n << BigInt(bits)) - 1n);
}

function intValue(c: Ctx, t: BtfInt, off: number, bitOff: number): BtfValue {
  const total = bitOff + t.offset;
  if (total !== 0 || t.bits % 8 !== 0) return hex(c, bitfield(c, off + (total >> 3), total & 7, t.bits));
  if (t.bits === 128 || ![8, 16, 32, 64].includes(t.bits)) return hex(c, readUint(c, off, t.bits / 8));
  const u = readUint(c, off, t.bits / 8);
  if (t.bool) return { kind: 'bool', value: u !== 0n };
  if (t.char && !t.signed) {
    const ch = Number(u);
    return ch >= 0x20 && ch < 0x7f ? { kind: 'str', value: String.fromCharCode(ch) } : hex(c, ch);
  }
  return num((t.signed ? BigInt.asIntN(t.bits, u) : u).toString());
}

function composite(c: Ctx, t: BtfComposite, off: number): BtfValue {
  const fields: [string, BtfValue][] = t.members.map((m) => {
    const at = off + Math.floor(m.bitOffset / 8);
    if (m.bitfieldSize) return [m.name, hex(c, bitfield(c, at, m.bitOffset & 7, m.bitfieldSize))];
    return [m.name, walk(c, m.type, at, m.bitOffset & 7)];
  });
  return { kind: 'obj', fields };
}

// isCString mirrors bpftool: a char array that holds a NUL-terminated printable string.
function cString(c: Ctx, t: BtfArray, off: number): string | null {
  if (t.nelems === 0) return null;
  let e = typeById(c.btf, t.type);
  for (let d = 0; ['volatile', 'const', 'restrict', 'type_tag'].includes(e.kind) && d < MAX_RESOLVE_DEPTH; d++) e = typeById(c.btf, (e as { type: number }).type);
  if (e.kind !== 'int' || e.size !== 1 || (!e.char && e.name !== 'char')) return null;
  const b = bytesAt(c, off, t.nelems);
  const end = b.indexOf(0);
  if (end < 0) return null;
  for (let i = 0; i < end; i++) if (b[i] <= 0x1f || b[i] >= 0x7f) return null;
  return String.fromCharCode(...b.subarray(0, end));
}

function array(c: Ctx, t: BtfArray, off: number): BtfValue {
  const s = cString(c, t, off);
  if (s !== null) return { kind: 'str', value: s };
  const size = typeSize(c.btf, t.type);
  const items: BtfValue[] = [];
  for (let i = 0; i < t.nelems; i++) items.push(walk(c, t.type, off + i * size, 0));
  return { kind: 'arr', items };
}

function enumValue(c: Ctx, t: BtfEnum, off: number): BtfValue {
  if (![1, 2, 4, 8].includes(t.size)) throw new BpfError('E_BTF', `enum [${t.id}] has size ${t.size}`);
  const u = readUint(c, off, t.size);
  const v = t.kind === 'enum64' ? u : BigInt.asIntN(t.size * 8, u);
  const hit = t.values.find((e) => e.value === v || BigInt.asUintN(64, e.value) === BigInt.asUintN(64, v));
  return hit ? { kind: 'str', value: hit.name } : num(v.toString());
}

function floatValue(c: Ctx, size: number, off: number): BtfValue {
  const b = bytesAt(c, off, size);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (size === 4) return num(String(dv.getFloat32(0, c.le)));
  if (size === 8) return num(String(dv.getFloat64(0, c.le)));
  return hex(c, readUint(c, off, size));
}

/** btfValueToJs converts a decoded value to plain data (bigint for integers beyond 2^53). */
export function btfValueToJs(v: BtfValue): unknown {
  switch (v.kind) {
    case 'num': {
      if (/^-?\d+$/.test(v.text)) {
        const b = BigInt(v.text);
        return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
      }
      if (/^0x[0-9a-f]+$/.test(v.text)) return BigInt(v.text);
      return v.text === '(nil)' ? 0 : Number(v.text);
    }
    case 'str': case 'bool': return v.value;
    case 'arr': return v.items.map(btfValueToJs);
    case 'obj': return Object.fromEntries(v.fields.map(([k, x]) => [k, btfValueToJs(x)]));
  }
}

/**
 * JsonWriter reproduces bpftool's JSON writer: pretty (names start lines, values stay inline),
 * or compact with `pretty` false (bpftool's `-j` without `-p`).
 */
export class JsonWriter {
  private out = '';
  private depth = 0;
  private sep = false;

  constructor(private readonly pretty = true) {}

  /** value writes one decoded value. */
  value(v: BtfValue): this {
    switch (v.kind) {
      case 'num': return this.raw(v.text);
      case 'bool': return this.raw(String(v.value));
      case 'str': return this.raw(quote(v.value));
      case 'arr':
        this.begin('[');
        v.items.forEach((x) => this.value(x));
        return this.end(']');
      case 'obj':
        this.begin('{');
        v.fields.forEach(([k, x]) => this.name(k).value(x));
        return this.end('}');
    }
  }

  /** begin opens an object or array. */
  begin(ch: '{' | '['): this {
    this.comma();
    this.out += ch;
    this.depth++;
    this.sep = false;
    return this;
  }

  /** end closes an object or array; a non-empty one closes on its own line. */
  end(ch: '}' | ']'): this {
    this.depth--;
    if (this.sep) this.eol();
    this.out += ch;
    this.sep = true;
    return this;
  }

  /** name writes a property name on a new line. */
  name(n: string): this {
    this.comma();
    this.eol();
    this.sep = false;
    this.out += this.pretty ? `${quote(n)}: ` : `${quote(n)}:`;
    return this;
  }

  /** raw writes a preformatted value. */
  raw(text: string): this {
    this.comma();
    this.out += text;
    return this;
  }

  /** text returns what was written, ending with a newline as bpftool's writer does. */
  text(): string {
    return this.out + '\n';
  }

  private comma(): void {
    if (this.sep) this.out += ',';
    this.sep = true;
  }

  private eol(): void {
    if (!this.pretty) return;
    this.out += '\n' + '    '.repeat(this.depth);
  }
}

// quote escapes a string the way bpftool's writer does (C escapes, no Unicode escapes).
function quote(s: string): string {
  const esc: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\f': '\\f', '\b': '\\b', '\\': '\\\\', '"': '\\"' };
  return `"${s.replace(/[\t\n\r\f\b\\"]/g, (ch) => esc[ch])}"`;
}

/** formatBtfJson prints one value as bpftool would inside `map dump` (no trailing newline). */
export function formatBtfJson(v: BtfValue): string {
  return new JsonWriter().value(v).text().slice(0, -1);
}

/** MapEntry is one key/value pair of raw bytes. */
export interface MapEntry { key: Uint8Array; value: Uint8Array }

/** formatMapDump prints entries as `bpftool map dump` does for a map with BTF. */
export function formatMapDump(btf: Btf, keyType: number, valueType: number, entries: MapEntry[]): string {
  const w = new JsonWriter().begin('[');
  for (const e of entries) {
    w.begin('{').name('key').value(btfValue(btf, keyType, e.key)).name('value').value(btfValue(btf, valueType, e.value)).end('}');
  }
  return w.end(']').text();
}
