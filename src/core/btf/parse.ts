/**
 * parseBtf: the .BTF section (or a raw BTF blob such as /sys/kernel/btf/vmlinux) to
 * plain type records. The byte order comes from the magic. All offsets and type ids are
 * checked, so code walking the result never reads outside it; problems are BpfError('E_BTF').
 */
import { BpfError } from '../errors.js';
import { ByteView } from '../elf/bytes.js';
import {
  BTF_KINDS, Btf, BtfKind, BtfLinkage, BtfType, BtfMember, BtfEnumValue, BtfParam, BtfVarSecinfo,
} from './types.js';

const BTF_MAGIC = 0xeb9f;
const TYPE_HDR = 12;

function fail(message: string): never {
  throw new BpfError('E_BTF', message, { section: '.BTF' });
}

/** parseBtf reads a BTF blob. */
export function parseBtf(bytes: Uint8Array): Btf {
  if (bytes.length < 24) fail(`btf too short for a header (${bytes.length} bytes)`);
  const littleEndian = bytes[0] === 0x9f && bytes[1] === 0xeb;
  if (!littleEndian && !(bytes[0] === 0xeb && bytes[1] === 0x9f)) fail('bad btf magic');
  const v = new ByteView(bytes, littleEndian, 'E_BTF', 'btf');
  if (v.u16(0) !== BTF_MAGIC) fail('bad btf magic');
  if (v.u8(2) !== 1) fail(`unsupported btf version ${v.u8(2)}`);
  const hdrLen = v.u32(4, 'hdr_len');
  if (hdrLen < 24) fail(`btf header length ${hdrLen} is too short`);
  const typeOff = hdrLen + v.u32(8, 'type_off');
  const typeLen = v.u32(12, 'type_len');
  const strOff = hdrLen + v.u32(16, 'str_off');
  const strLen = v.u32(20, 'str_len');
  const typeBytes = v.slice(typeOff, typeLen, 'type section');
  const strings = v.slice(strOff, strLen, 'string section');
  if (strLen > 0 && strings[strLen - 1] !== 0) fail('btf string section is not NUL-terminated');
  const names = new ByteView(strings, littleEndian, 'E_BTF', 'btf strings');
  const types = readTypes(new ByteView(typeBytes, littleEndian, 'E_BTF', 'btf types'), names);
  checkRefs(types);
  return { littleEndian, types, strings };
}

function str(names: ByteView, off: number): string {
  if (off === 0 || names.length === 0) return '';
  return names.cstring(off, `btf name offset ${off}`);
}

function readTypes(v: ByteView, names: ByteView): BtfType[] {
  const types: BtfType[] = [{ kind: 'void', id: 0, name: '' }];
  let at = 0;
  while (at < v.length) {
    const id = types.length;
    const info = v.u32(at + 4, `type [${id}] info`);
    const kindNo = (info >>> 24) & 0x1f;
    if (kindNo === 0 || kindNo >= BTF_KINDS.length) fail(`type [${id}] has unknown kind ${kindNo}`);
    const h = { id, name: str(names, v.u32(at, `type [${id}] name_off`)), kind: BTF_KINDS[kindNo], vlen: info & 0xffff, kflag: info >>> 31, sizeOrType: v.u32(at + 8, `type [${id}] size`) };
    const [t, len] = readBody(v, names, at + TYPE_HDR, h);
    types.push(t);
    at += TYPE_HDR + len;
  }
  return types;
}

interface Head { id: number; name: string; kind: BtfKind; vlen: number; kflag: number; sizeOrType: number }

// readBody decodes the kind-specific data after the 12-byte header and returns its length.
function readBody(v: ByteView, names: ByteView, at: number, h: Head): [BtfType, number] {
  const { id, name, vlen } = h;
  const f = (what: string) => `type [${id}] ${what}`;
  switch (h.kind) {
    case 'int': {
      const x = v.u32(at, f('int data'));
      const enc = (x >>> 24) & 0xf;
      return [{ kind: 'int', id, name, size: h.sizeOrType, bits: x & 0xff, offset: (x >>> 16) & 0xff, signed: !!(enc & 1), char: !!(enc & 2), bool: !!(enc & 4) }, 4];
    }
    case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
      return [{ kind: h.kind, id, name, type: h.sizeOrType }, 0];
    case 'array':
      return [{ kind: 'array', id, name, type: v.u32(at, f('array type')), indexType: v.u32(at + 4, f('array index')), nelems: v.u32(at + 8, f('array nelems')) }, 12];
    case 'struct': case 'union': {
      const members: BtfMember[] = [];
      for (let i = 0; i < vlen; i++) {
        const p = at + i * 12;
        const off = v.u32(p + 8, f(`member ${i}`));
        members.push({
          name: str(names, v.u32(p, f(`member ${i} name`))), type: v.u32(p + 4, f(`member ${i} type`)),
          bitOffset: h.kflag ? off & 0xffffff : off, bitfieldSize: h.kflag ? off >>> 24 : 0,
        });
      }
      return [{ kind: h.kind, id, name, size: h.sizeOrType, members }, vlen * 12];
    }
    case 'enum': case 'enum64': {
      const wide = h.kind === 'enum64';
      const values: BtfEnumValue[] = [];
      const rec = wide ? 12 : 8;
      for (let i = 0; i < vlen; i++) {
        const p = at + i * rec;
        const nm = str(names, v.u32(p, f(`enumerator ${i} name`)));
        const lo = v.u32(p + 4, f(`enumerator ${i} value`));
        const value = wide ? (BigInt(v.u32(p + 8, f(`enumerator ${i} value`))) << 32n) | BigInt(lo)
          : h.kflag ? BigInt(lo | 0) : BigInt(lo);
        values.push({ name: nm, value: wide && h.kflag ? BigInt.asIntN(64, value) : value });
      }
      return [{ kind: h.kind, id, name, size: h.sizeOrType, signed: !!h.kflag, values }, vlen * rec];
    }
    case 'fwd':
      return [{ kind: 'fwd', id, name, fwdKind: h.kflag ? 'union' : 'struct' }, 0];
    case 'func':
      return [{ kind: 'func', id, name, type: h.sizeOrType, linkage: linkage(vlen, id) }, 0];
    case 'func_proto': {
      const params: BtfParam[] = [];
      for (let i = 0; i < vlen; i++) {
        params.push({ name: str(names, v.u32(at + i * 8, f(`param ${i} name`))), type: v.u32(at + i * 8 + 4, f(`param ${i} type`)) });
      }
      return [{ kind: 'func_proto', id, name, returnType: h.sizeOrType, params }, vlen * 8];
    }
    case 'var':
      return [{ kind: 'var', id, name, type: h.sizeOrType, linkage: linkage(v.u32(at, f('var linkage')), id) }, 4];
    case 'datasec': {
      const vars: BtfVarSecinfo[] = [];
      for (let i = 0; i < vlen; i++) {
        const p = at + i * 12;
        vars.push({ type: v.u32(p, f(`secinfo ${i}`)), offset: v.u32(p + 4, f(`secinfo ${i}`)), size: v.u32(p + 8, f(`secinfo ${i}`)) });
      }
      return [{ kind: 'datasec', id, name, size: h.sizeOrType, vars }, vlen * 12];
    }
    case 'float':
      return [{ kind: 'float', id, name, size: h.sizeOrType }, 0];
    case 'decl_tag':
      return [{ kind: 'decl_tag', id, name, type: h.sizeOrType, componentIdx: v.i32(at, f('decl_tag component')) }, 4];
    default:
      return fail(`type [${id}] has unsupported kind ${h.kind}`);
  }
}

function linkage(n: number, id: number): BtfLinkage {
  if (n === 0) return 'static';
  if (n === 1) return 'global';
  if (n === 2) return 'extern';
  return fail(`type [${id}] has unknown linkage ${n}`);
}

// checkRefs makes every referenced type id valid, so walkers need no bounds checks.
function checkRefs(types: BtfType[]): void {
  const ok = (ref: number, t: BtfType, what: string) => {
    if (ref >= types.length) fail(`type [${t.id}] ${what} refers to missing type ${ref}`);
  };
  for (const t of types) {
    switch (t.kind) {
      case 'array': ok(t.type, t, 'element'); ok(t.indexType, t, 'index'); break;
      case 'struct': case 'union': t.members.forEach((m) => ok(m.type, t, `member ${m.name}`)); break;
      case 'func_proto': ok(t.returnType, t, 'return'); t.params.forEach((p) => ok(p.type, t, `param ${p.name}`)); break;
      case 'datasec': t.vars.forEach((s) => ok(s.type, t, 'variable')); break;
      case 'void': case 'int': case 'enum': case 'enum64': case 'fwd': case 'float': break;
      default: ok(t.type, t, 'target'); break;
    }
  }
}
