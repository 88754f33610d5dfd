/**
 * Global variables by name, through the BTF DATASECs of an object (what libbpf's skeleton
 * gives as `skel->rodata->limit`): set a `.rodata` constant in the spec before load, so the
 * program is loaded with it, or read/write any global of a spec (`.data`, `.bss`...).
 */
import { BpfError } from '../errors.js';
import type { ObjectSpec, MapSpec } from '../elf/spec.js';
import { skipQualifiers, typeById } from '../btf/query.js';

/** GlobalVar locates a global variable: its data map, offset and size. */
export interface GlobalVar {
  name: string;
  /** the data section map holding it (".rodata", ".data", ".bss"...) */
  map: string;
  offset: number;
  size: number;
  signed: boolean;
}

/** GlobalValue is what a variable can be set to: an integer, or exactly its bytes. */
export type GlobalValue = number | bigint | boolean | Uint8Array;

/** findGlobal locates variable `name` in the object's DATASECs; throws ENOENT naming the known ones. */
export function findGlobal(spec: ObjectSpec, name: string): GlobalVar {
  const btf = spec.btf;
  if (!btf) throw new BpfError('ENOENT', `global variable "${name}": object has no BTF (compile with -g)`, { symbol: name });
  const known: string[] = [];
  for (const t of btf.types) {
    if (t.kind !== 'datasec') continue;
    for (const v of t.vars) {
      const vt = typeById(btf, v.type);
      known.push(vt.name);
      if (vt.name !== name || vt.kind !== 'var') continue;
      const base = skipQualifiers(btf, vt.type);
      const signed = (base.kind === 'int' || base.kind === 'enum') && base.signed;
      return { name, map: t.name, offset: v.offset, size: v.size, signed };
    }
  }
  throw new BpfError('ENOENT', `no global variable "${name}" (known: ${known.join(', ') || 'none'})`, { symbol: name });
}

/** encodeGlobal turns `value` into the variable's bytes in the object's byte order. */
export function encodeGlobal(v: GlobalVar, value: GlobalValue, littleEndian: boolean): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length > v.size) throw new BpfError('EINVAL', `global "${v.name}" is ${v.size} bytes, value has ${value.length}`, { symbol: v.name });
    const out = new Uint8Array(v.size);
    out.set(value);
    return out;
  }
  if (![1, 2, 4, 8].includes(v.size)) throw new BpfError('EINVAL', `global "${v.name}" (${v.size} bytes) is not an integer; pass its bytes`, { symbol: v.name });
  const n = BigInt(typeof value === 'boolean' ? Number(value) : value);
  const bits = BigInt(v.size * 8);
  if (n < -(1n << (bits - 1n)) || n >= 1n << bits) throw new BpfError('EINVAL', `value ${n} does not fit global "${v.name}" (${v.size} bytes)`, { symbol: v.name });
  const u = BigInt.asUintN(v.size * 8, n);
  const out = new Uint8Array(v.size);
  for (let i = 0; i < v.size; i++) out[littleEndian ? i : v.size - 1 - i] = Number((u >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** decodeGlobal reads an integer variable from its bytes. */
export function decodeGlobal(v: GlobalVar, bytes: Uint8Array, littleEndian: boolean): bigint {
  let u = 0n;
  for (let i = 0; i < v.size; i++) u |= BigInt(bytes[littleEndian ? i : v.size - 1 - i]) << BigInt(8 * i);
  return v.signed ? BigInt.asIntN(v.size * 8, u) : u;
}

function dataMap(spec: ObjectSpec, v: GlobalVar): MapSpec & { initialValue: Uint8Array } {
  const m = spec.maps.find((x) => x.name === v.map);
  if (!m || !m.initialValue) throw new BpfError('ENOENT', `global "${v.name}": section ${v.map} has no data map`, { section: v.map, symbol: v.name });
  if (v.offset + v.size > m.initialValue.length) throw new BpfError('EINVAL', `global "${v.name}" lies outside ${v.map}`, { section: v.map, symbol: v.name });
  return m as MapSpec & { initialValue: Uint8Array };
}

/** setGlobal sets variable `name` in the spec's initial data (before load; `.rodata` included). */
export function setGlobal(spec: ObjectSpec, name: string, value: GlobalValue): void {
  const v = findGlobal(spec, name);
  dataMap(spec, v).initialValue.set(encodeGlobal(v, value, spec.littleEndian), v.offset);
}

/** getGlobal reads an integer variable from the spec's initial data. */
export function getGlobal(spec: ObjectSpec, name: string): bigint {
  const v = findGlobal(spec, name);
  return decodeGlobal(v, dataMap(spec, v).initialValue.subarray(v.offset, v.offset + v.size), spec.littleEndian);
}

/** rewriteConstants sets several variables at once (cilium/ebpf's CollectionSpec.RewriteConstants). */
export function rewriteConstants(spec: ObjectSpec, values: Record<string, GlobalValue>): void {
  for (const [k, v] of Object.entries(values)) setGlobal(spec, k, v);
}
