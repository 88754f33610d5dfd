/**
 * BTF type records as plain data, one interface per kind (include/uapi/linux/btf.h).
 * Type ids index `Btf.types`; id 0 is `void`. Names are resolved from the string section.
 */

/** BTF_KINDS lists the kinds in kernel order (index = BTF_KIND_* value). */
export const BTF_KINDS = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const',
  'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
] as const;

/** BtfKind is a kind's lowercase name ('struct' for BTF_KIND_STRUCT). */
export type BtfKind = (typeof BTF_KINDS)[number];

/** Linkage of a FUNC or VAR. */
export type BtfLinkage = 'static' | 'global' | 'extern';

interface Base {
  id: number;
  name: string;
}

/** BtfVoid is type 0. */
export interface BtfVoid extends Base { kind: 'void' }
/** BtfInt is an integer: `bits` wide at bit `offset` within `size` bytes. */
export interface BtfInt extends Base {
  kind: 'int'; size: number; bits: number; offset: number; signed: boolean; char: boolean; bool: boolean;
}
/** BtfRef is a kind that only refers to another type. */
export interface BtfRef extends Base { kind: 'ptr' | 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag'; type: number }
/** BtfArray is a fixed-size array. */
export interface BtfArray extends Base { kind: 'array'; type: number; indexType: number; nelems: number }
/** BtfMember is a struct or union member; `bitfieldSize` is 0 for ordinary members. */
export interface BtfMember { name: string; type: number; bitOffset: number; bitfieldSize: number }
/** BtfComposite is a struct or union. */
export interface BtfComposite extends Base { kind: 'struct' | 'union'; size: number; members: BtfMember[] }
/** BtfEnumValue is one enumerator. */
export interface BtfEnumValue { name: string; value: bigint }
/** BtfEnum is an ENUM (32-bit values) or ENUM64. */
export interface BtfEnum extends Base { kind: 'enum' | 'enum64'; size: number; signed: boolean; values: BtfEnumValue[] }
/** BtfFwd is a forward declaration. */
export interface BtfFwd extends Base { kind: 'fwd'; fwdKind: 'struct' | 'union' }
/** BtfFunc is a function; `type` is its FUNC_PROTO. */
export interface BtfFunc extends Base { kind: 'func'; type: number; linkage: BtfLinkage }
/** BtfParam is a FUNC_PROTO parameter (type 0 with no name marks varargs). */
export interface BtfParam { name: string; type: number }
/** BtfFuncProto is a function signature. */
export interface BtfFuncProto extends Base { kind: 'func_proto'; returnType: number; params: BtfParam[] }
/** BtfVar is a global or static variable. */
export interface BtfVar extends Base { kind: 'var'; type: number; linkage: BtfLinkage }
/** BtfVarSecinfo places a VAR inside a DATASEC. */
export interface BtfVarSecinfo { type: number; offset: number; size: number }
/** BtfDatasec is an ELF data section and the variables it holds. */
export interface BtfDatasec extends Base { kind: 'datasec'; size: number; vars: BtfVarSecinfo[] }
/** BtfFloat is a floating-point type. */
export interface BtfFloat extends Base { kind: 'float'; size: number }
/** BtfDeclTag tags a declaration (componentIdx -1) or one member/parameter. */
export interface BtfDeclTag extends Base { kind: 'decl_tag'; type: number; componentIdx: number }

/** BtfType is any BTF type record. */
export type BtfType =
  | BtfVoid | BtfInt | BtfRef | BtfArray | BtfComposite | BtfEnum | BtfFwd | BtfFunc | BtfFuncProto
  | BtfVar | BtfDatasec | BtfFloat | BtfDeclTag;

/** Btf is parsed BTF: the types (index = type id) and the raw string section. */
export interface Btf {
  littleEndian: boolean;
  types: BtfType[];
  strings: Uint8Array;
}
