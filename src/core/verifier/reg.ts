/**
 * Abstract register values (the kernel's bpf_reg_state): a type, and for pointers a fixed
 * offset `off` plus a variable offset `s` (a scalar), with what the type needs: the map,
 * the packet range proven by comparisons, the memory size, the stack frame. Registers are
 * immutable: every change makes a new object, so states copy by reference.
 */
import { UNKNOWN, formatScalar, isConst, known, type Scalar } from './scalar.js';
import type { MapRef } from './maps.js';

/** RegType is the kind of value a register holds (kernel enum bpf_reg_type, base types). */
export const enum RegType {
  NOT_INIT = 0,
  SCALAR = 1,
  PTR_TO_CTX = 2,
  CONST_PTR_TO_MAP = 3,
  PTR_TO_MAP_VALUE = 4,
  PTR_TO_STACK = 5,
  PTR_TO_PACKET = 6,
  PTR_TO_PACKET_META = 7,
  PTR_TO_PACKET_END = 8,
  PTR_TO_MEM = 9,
  PTR_TO_FUNC = 10,
  PTR_TO_MAP_KEY = 11,
}

/** Reg is one register's abstract value. */
export interface Reg {
  readonly type: RegType;
  /** scalar value, or the variable part of a pointer's offset */
  readonly s: Scalar;
  /** fixed part of a pointer's offset */
  readonly off: number;
  /** links copies: same-id scalars are equal, same-id nullable pointers are null together, same-id packet pointers share `s` */
  readonly id: number;
  /** id of the acquired reference this pointer belongs to (ring-buffer records), 0 if none */
  readonly ref: number;
  /** may be NULL (map lookup results, ring-buffer reserve results) until checked */
  readonly nullable: boolean;
  /** packet pointers: bytes [0, range) from the pointer's base are known to be inside the packet */
  readonly range: number;
  /** PTR_TO_MEM: size of the memory; PTR_TO_FUNC: the callback's first instruction */
  readonly size: number;
  /** PTR_TO_STACK: call frame the pointer points into */
  readonly frame: number;
  /** CONST_PTR_TO_MAP, PTR_TO_MAP_VALUE, PTR_TO_MAP_KEY: the map */
  readonly map: MapRef | null;
  /** PTR_TO_MEM from bpf_ringbuf_reserve (MEM_RINGBUF) */
  readonly ringbuf: boolean;
}

const BASE: Reg = {
  type: RegType.NOT_INIT, s: UNKNOWN, off: 0, id: 0, ref: 0, nullable: false, range: 0, size: 0, frame: 0, map: null, ringbuf: false,
};

/** NOT_INIT_REG is an uninitialised register. */
export const NOT_INIT_REG: Reg = BASE;
/** UNKNOWN_REG is a scalar about which nothing is known. */
export const UNKNOWN_REG: Reg = { ...BASE, type: RegType.SCALAR };

/** scalarReg makes a scalar register. */
export const scalarReg = (s: Scalar, id = 0): Reg => ({
  // spelled out rather than spread from BASE: this is one of the hottest allocations
  type: RegType.SCALAR, s, off: 0, id, ref: 0, nullable: false, range: 0, size: 0, frame: 0, map: null, ringbuf: false,
});
/** constReg makes a register holding a known value. */
export const constReg = (x: bigint): Reg => scalarReg(known(x));
/** ZERO_OFF is the variable offset of a pointer with no variable part. */
export const ZERO_OFF = known(0n);
/** ptrReg makes a pointer register with no variable offset. */
export const ptrReg = (type: RegType, fields: Partial<Reg> = {}): Reg => ({ ...BASE, s: ZERO_OFF, type, ...fields });

/** isPointer tells whether a register holds a pointer of any kind. */
export const isPointer = (r: Reg): boolean => r.type !== RegType.SCALAR && r.type !== RegType.NOT_INIT;
/** isPacket tells whether a register points into the packet (data or meta). */
export const isPacket = (r: Reg): boolean => r.type === RegType.PTR_TO_PACKET || r.type === RegType.PTR_TO_PACKET_META;
/** isKnownZero tells whether a register is the scalar 0. */
export const isKnownZero = (r: Reg): boolean => r.type === RegType.SCALAR && isConst(r.s) && r.s.t.v === 0n;

const NAMES: Record<RegType, string> = {
  [RegType.NOT_INIT]: '?', [RegType.SCALAR]: 'scalar', [RegType.PTR_TO_CTX]: 'ctx', [RegType.CONST_PTR_TO_MAP]: 'map_ptr',
  [RegType.PTR_TO_MAP_VALUE]: 'map_value', [RegType.PTR_TO_STACK]: 'fp', [RegType.PTR_TO_PACKET]: 'pkt',
  [RegType.PTR_TO_PACKET_META]: 'pkt_meta', [RegType.PTR_TO_PACKET_END]: 'pkt_end', [RegType.PTR_TO_MEM]: 'mem',
  [RegType.PTR_TO_FUNC]: 'func', [RegType.PTR_TO_MAP_KEY]: 'map_key',
};

/** typeName is the kernel's name of a register type, e.g. 'map_value_or_null', 'ringbuf_mem', 'scalar'. */
export function typeName(r: Reg): string {
  let n = NAMES[r.type];
  if (r.type === RegType.PTR_TO_MEM && r.ringbuf) n = 'ringbuf_mem';
  return r.nullable ? `${n}_or_null` : n;
}

/** formatReg prints a register the way the kernel's log does: 0, scalar(...), fp-8, pkt(off=14,r=14), map_value(...). */
export function formatReg(r: Reg): string {
  if (r.type === RegType.NOT_INIT) return '?';
  if (r.type === RegType.SCALAR) return formatScalar(r.s, r.id);
  if (r.type === RegType.PTR_TO_STACK && isConst(r.s) && r.s.t.v === 0n) return `fp${r.off}`;
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id}`);
  if (r.ref) parts.push(`ref_obj_id=${r.ref}`);
  if (r.off) parts.push(`off=${r.off}`);
  if (r.type === RegType.PTR_TO_PACKET || r.type === RegType.PTR_TO_PACKET_META) parts.push(`r=${r.range}`);
  if (r.map) parts.push(`ks=${r.map.info.keySize},vs=${r.map.info.valueSize}`);
  if (r.type === RegType.PTR_TO_MEM) parts.push(`sz=${r.size}`);
  if (r.type === RegType.PTR_TO_STACK) parts.push(`frame=${r.frame}`);
  if (!(isConst(r.s) && r.s.t.v === 0n)) parts.push(`var_off=${formatScalar(r.s)}`);
  return `${typeName(r)}(${parts.join(',')})`;
}
