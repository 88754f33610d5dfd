/**
 * CO-RE relocations (BTF.ext core_relo records), applied as libbpf does: the access string
 * walks the object's own (local) type; the same member names are looked up in a target type
 * of the same essential name (without a `___flavor` suffix), and the instruction's immediate
 * or offset is rewritten with the target's value. Targets are tsbpf's context types
 * (ctx-btf.ts) and any BTF the caller supplies (libbpf's btf_custom_path).
 *
 * Kinds: field_byte_offset, field_byte_size, field_exists, field_signed, field_lshift_u64,
 * field_rshift_u64 (bitfields located as libbpf does), type_exists,
 * type_size, type_id_local, type_id_target, type_matches, enumval_exists, enumval_value.
 * A relocation with no target poisons its instruction (a call to helper 0xbad2310, libbpf's
 * marker) so the program faults only if that code runs; *_exists kinds simply yield 0.
 */
import { BpfError } from '../errors.js';
import type { Btf, BtfType, CoreRelo } from '../btf/index.js';
import { skipQualifiers, typeById, typeSize } from '../btf/query.js';
import type { Insn } from '../isa/instruction.js';
import type { ProgramSpec } from '../elf/spec.js';

/** CORE_POISON is the helper number libbpf writes into instructions it could not relocate. */
export const CORE_POISON = 0xbad2310;

interface Step { member: boolean; name: string; idx: number }
interface Spec { btf: Btf; root: BtfType; steps: Step[]; bitOff: number; last: BtfType; bitfield: number; first: number }

type Where = { insn: number; section: string; symbol: string };
const fail = (w: Where, msg: string): never => {
  throw new BpfError('E_RELOC', `CO-RE relocation: ${msg}`, w);
};

function essential(name: string): string {
  const i = name.indexOf('___');
  return i < 0 ? name : name.slice(0, i);
}

function parseAccess(s: string, w: Where): number[] {
  const parts = s.split(':').map(Number);
  if (parts.length === 0 || parts.some((n) => !Number.isInteger(n) || n < 0)) fail(w, `bad access string "${s}"`);
  return parts;
}

function walk(btf: Btf, rootId: number, access: number[], w: Where, names?: Step[]): Spec | null {
  const root = skipQualifiers(btf, rootId);
  let bitOff = access[0] * (access.length > 1 ? typeSize(btf, root.id) * 8 : 0);
  let cur = root, bitfield = 0;
  const steps: Step[] = [];
  for (let k = 1; k < access.length; k++) {
    const want = names?.[k - 1];
    if (cur.kind === 'struct' || cur.kind === 'union') {
      const found = want ? findMember(btf, cur, want.name) : memberAt(cur, access[k], w);
      if (!found) return null;
      bitOff += found.bitOffset;
      bitfield = found.bitfieldSize;
      steps.push({ member: true, name: found.name, idx: access[k] });
      cur = skipQualifiers(btf, found.type);
    } else if (cur.kind === 'array') {
      if (want && (cur.nelems !== 0 && access[k] >= cur.nelems)) return null;
      bitOff += access[k] * typeSize(btf, cur.type) * 8;
      steps.push({ member: false, name: '', idx: access[k] });
      cur = skipQualifiers(btf, cur.type);
    } else {
      return want ? null : fail(w, `access ${access.join(':')} goes through a ${cur.kind}`);
    }
  }
  return { btf, root, steps, bitOff, last: cur, bitfield, first: access[0] };
}

function memberAt(t: Extract<BtfType, { kind: 'struct' | 'union' }>, idx: number, w: Where) {
  return t.members[idx] ?? fail(w, `member ${idx} of ${t.kind} ${t.name} does not exist`);
}

// findMember finds a member by name, also inside anonymous struct/union members (offsets add up).
function findMember(btf: Btf, t: Extract<BtfType, { kind: 'struct' | 'union' }>, name: string, depth = 0): { name: string; type: number; bitOffset: number; bitfieldSize: number } | null {
  for (const m of t.members) {
    if (m.name === name) return m;
    if (m.name === '' && depth < 8) {
      const inner = skipQualifiers(btf, m.type);
      if (inner.kind !== 'struct' && inner.kind !== 'union') continue;
      const r = findMember(btf, inner, name, depth + 1);
      if (r) return { ...r, bitOffset: r.bitOffset + m.bitOffset };
    }
  }
  return null;
}

function family(t: BtfType): string {
  switch (t.kind) {
    case 'struct': case 'union': case 'fwd': return 'composite';
    case 'int': case 'enum': case 'enum64': return 'int';
    default: return t.kind;
  }
}

/** matchTarget finds the target spec for a local one in `targets` (first match wins). */
function matchTarget(local: Spec, targets: Btf[], w: Where): Spec | null {
  const name = essential(local.root.name);
  if (!name) return null;
  for (const btf of targets) {
    for (const t of btf.types) {
      if (t.name !== name || family(t) !== family(local.root) || t.kind === 'fwd') continue;
      const s = walk(btf, t.id, [local.first, ...local.steps.map((x) => x.idx)], w, local.steps);
      if (s && family(s.last) === family(local.last)) return s;
    }
  }
  return null;
}

function signed(t: BtfType): number {
  return (t.kind === 'int' || t.kind === 'enum' || t.kind === 'enum64') && t.signed ? 1 : 0;
}

/** geometry is libbpf's field location: the smallest aligned load (byte_off, byte_sz) holding the field's bits. */
function geometry(s: Spec, w: Where): { byteOff: number; byteSz: number; bitSz: number } {
  const mt = typeSize(s.btf, s.last.id);
  if (!s.bitfield) {
    if (s.bitOff % 8) fail(w, 'field is not byte-aligned');
    return { byteOff: s.bitOff / 8, byteSz: mt, bitSz: mt * 8 };
  }
  let byteSz = mt, byteOff = Math.floor(s.bitOff / 8 / byteSz) * byteSz;
  while (s.bitOff + s.bitfield - byteOff * 8 > byteSz * 8) {
    if (byteSz >= 8) fail(w, 'bitfield does not fit a 64-bit load');
    byteSz *= 2;
    byteOff = Math.floor(s.bitOff / 8 / byteSz) * byteSz;
  }
  return { byteOff, byteSz, bitSz: s.bitfield };
}

function fieldValue(kind: string, s: Spec, w: Where): number {
  if (kind === 'field_exists') return 1;
  if (kind === 'field_signed') return signed(s.last);
  const g = geometry(s, w);
  switch (kind) {
    case 'field_byte_offset': return g.byteOff;
    case 'field_byte_size': return g.byteSz;
    // little-endian: shift the field's top bit to bit 63, then back down to bit 0
    case 'field_lshift_u64': return 64 - (s.bitOff + g.bitSz - g.byteOff * 8);
    case 'field_rshift_u64': return 64 - g.bitSz;
    default: return fail(w, `relocation kind ${kind} is not supported`);
  }
}

/** relocValues computes the local value (what clang wrote) and the target value (null: no target). */
function relocValues(r: CoreRelo, local: Btf, targets: Btf[], w: Where): Values {
  const kind = String(r.kind);
  if (kind.startsWith('field_')) {
    const ls = walk(local, r.typeId, parseAccess(r.accessStr, w), w)!;
    const ts = matchTarget(ls, targets, w);
    const lv = fieldValue(kind, ls, w);
    // clang sizes bitfield loads its own way, so (as libbpf) their local values are not checked
    const validate = !ls.bitfield;
    if (!ts) return { local: lv, target: kind === 'field_exists' ? 0 : null, validate };
    return { local: lv, target: fieldValue(kind, ts, w), size: typeSize(ts.btf, ts.last.id), localSize: typeSize(local, ls.last.id), validate };
  }
  return typeValues(kind, r, local, targets, w);
}

function typeValues(kind: string, r: CoreRelo, local: Btf, targets: Btf[], w: Where): { local: number; target: number | null } {
  const lt = typeById(local, r.typeId);
  const base = skipQualifiers(local, r.typeId);
  const name = essential(base.name);
  let tgt: { btf: Btf; t: BtfType } | null = null;
  for (const btf of targets) {
    const t = btf.types.find((x) => name && x.name === name && family(x) === family(base) && x.kind !== 'fwd');
    if (t) { tgt = { btf, t }; break; }
  }
  if (kind.startsWith('enumval_')) return enumValues(kind, r, base, tgt?.t ?? null, w);
  switch (kind) {
    case 'type_exists': case 'type_matches': return { local: 1, target: tgt ? 1 : 0 };
    case 'type_size': return { local: typeSize(local, lt.id), target: tgt ? typeSize(tgt.btf, tgt.t.id) : null };
    case 'type_id_local': return { local: r.typeId, target: r.typeId };
    case 'type_id_target': return { local: r.typeId, target: tgt ? tgt.t.id : null };
    default: return fail(w, `relocation kind ${kind} is not supported`);
  }
}

function enumValues(kind: string, r: CoreRelo, local: BtfType, target: BtfType | null, w: Where): { local: number; target: number | null } {
  if (local.kind !== 'enum' && local.kind !== 'enum64') return fail(w, `enum relocation on ${local.kind}`);
  const idx = parseAccess(r.accessStr, w)[0];
  const lv = local.values[idx] ?? fail(w, `enumerator ${idx} of ${local.name} does not exist`);
  const tv = target && (target.kind === 'enum' || target.kind === 'enum64') ? target.values.find((v) => v.name === lv.name) : undefined;
  if (kind === 'enumval_exists') return { local: 1, target: tv ? 1 : 0 };
  return { local: Number(BigInt.asIntN(32, lv.value)), target: tv ? Number(BigInt.asIntN(32, tv.value)) : null };
}

const SIZE_CODE: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };

interface Values { local: number; target: number | null; size?: number; localSize?: number; validate?: boolean }
const BYTES_OF_SIZE: Record<number, number> = { 0x10: 1, 0x08: 2, 0x00: 4, 0x18: 8 };

function patch(insns: Insn[], at: number, v: Values, w: Where): void {
  const i = insns[at] ?? fail(w, 'instruction out of range');
  if (v.target === null) {
    if (i.code === 0x18 && insns[at + 1]) insns[at + 1] = { code: 0x05, dst: 0, src: 0, off: 0, imm: 0 };
    insns[at] = { code: 0x85, dst: 0, src: 0, off: 0, imm: CORE_POISON };
    return;
  }
  const cls = i.code & 7;
  if ((cls === 4 || cls === 7) && (i.code & 0x08) === 0) {
    if (v.validate !== false && i.imm !== v.local) fail(w, `instruction has immediate ${i.imm}, expected ${v.local}`);
    i.imm = v.target;
  } else if ((cls === 1 || cls === 2 || cls === 3) && (i.code & 0xe0) === 0x60) {
    if (v.validate !== false && i.off !== v.local) fail(w, `instruction has offset ${i.off}, expected ${v.local}`);
    if (v.target > 0x7fff) fail(w, `offset ${v.target} does not fit the instruction`);
    i.off = v.target;
    // a load of a field whose size differs in the target reads the target's size, as libbpf does
    const whole = BYTES_OF_SIZE[i.code & 0x18] === v.localSize;
    if (cls === 1 && whole && v.size !== undefined && SIZE_CODE[v.size] !== undefined) i.code = (i.code & ~0x18) | SIZE_CODE[v.size];
  } else if (i.code === 0x18 && insns[at + 1]) {
    if (i.imm !== v.local) fail(w, `instruction has immediate ${i.imm}, expected ${v.local}`);
    i.imm = v.target;
    insns[at + 1].imm = 0;
  } else {
    fail(w, `cannot patch instruction with opcode 0x${i.code.toString(16)}`);
  }
}

/** applyCoreRelos returns a copy of the program's instructions with its CO-RE relocations applied. */
export function applyCoreRelos(prog: ProgramSpec, local: Btf | null, targets: Btf[]): Insn[] {
  const insns = prog.insns.map((i) => ({ ...i }));
  if (prog.coreRelos.length === 0) return insns;
  if (!local) throw new BpfError('E_RELOC', 'CO-RE relocations without .BTF', { section: prog.sectionName, symbol: prog.name });
  for (const r of prog.coreRelos) {
    const w = { insn: r.insn, section: prog.sectionName, symbol: prog.name };
    try {
      patch(insns, r.insn, relocValues(r, local, targets, w), w);
    } catch (e) {
      if (e instanceof BpfError && e.code !== 'E_RELOC') throw new BpfError('E_RELOC', `CO-RE relocation: ${e.detail}`, w, { cause: e });
      throw e;
    }
  }
  return insns;
}
