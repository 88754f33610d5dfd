/**
 * Lookups over parsed BTF: by id, by name, skipping qualifiers and typedefs, and sizes.
 * Chains are followed at most MAX_RESOLVE_DEPTH steps, so malformed BTF with reference
 * cycles ends in a BpfError('E_BTF') rather than a hang.
 */
import { BpfError } from '../errors.js';
import { Btf, BtfKind, BtfType } from './types.js';

/** MAX_RESOLVE_DEPTH bounds typedef/qualifier/array chains, as libbpf does. */
export const MAX_RESOLVE_DEPTH = 32;

/** typeById returns the type with `id` or throws E_BTF. */
export function typeById(btf: Btf, id: number): BtfType {
  const t = btf.types[id];
  if (!t) throw new BpfError('E_BTF', `type id ${id} does not exist (${btf.types.length} types)`);
  return t;
}

/** BtfOfKind is the record type of kind K (BtfComposite for 'struct'). */
export type BtfOfKind<K extends BtfKind> = BtfType extends infer T ? (T extends { kind: infer TK } ? (K extends TK ? T : never) : never) : never;

/** findType returns the first type of `kind` named `name`, or undefined. */
export function findType<K extends BtfKind>(btf: Btf, kind: K, name: string): BtfOfKind<K> | undefined {
  return btf.types.find((t) => t.kind === kind && t.name === name) as BtfOfKind<K> | undefined;
}

const SKIPPED = new Set<BtfKind>(['typedef', 'volatile', 'const', 'restrict', 'type_tag']);

/** skipQualifiers follows typedefs and const/volatile/restrict/type_tag to the underlying type. */
export function skipQualifiers(btf: Btf, id: number): BtfType {
  let t = typeById(btf, id);
  for (let depth = 0; SKIPPED.has(t.kind); depth++) {
    if (depth >= MAX_RESOLVE_DEPTH) throw new BpfError('E_BTF', `type [${id}]: typedef/qualifier chain too deep`);
    t = typeById(btf, (t as { type: number }).type);
  }
  return t;
}

/** typeSize returns the size in bytes of a type, as btf__resolve_size does. */
export function typeSize(btf: Btf, id: number): number {
  let t = typeById(btf, id);
  let mult = 1;
  for (let depth = 0; depth <= MAX_RESOLVE_DEPTH; depth++) {
    switch (t.kind) {
      case 'int': case 'struct': case 'union': case 'enum': case 'enum64': case 'datasec': case 'float':
        return checked(mult * t.size, id);
      case 'ptr':
        return checked(mult * 8, id);
      case 'array':
        mult *= t.nelems;
        t = typeById(btf, t.type);
        break;
      case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': case 'var':
        t = typeById(btf, t.type);
        break;
      default:
        throw new BpfError('E_BTF', `type [${id}] (${t.kind}) has no size`);
    }
  }
  throw new BpfError('E_BTF', `type [${id}]: type chain too deep`);
}

function checked(n: number, id: number): number {
  if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new BpfError('E_BTF', `type [${id}] size ${n} is too large`);
  return n;
}
