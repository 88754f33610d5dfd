/**
 * The shape of a generated program, as a tree that fast-check can shrink: removing an item
 * from any list still yields a valid program, because emission (emit.ts) resolves jump offsets,
 * register reservations and call targets from the tree, never from absolute positions.
 */
import fc from 'fast-check';
import { imm32, reg, u64 } from './values.js';

/** ALU_KINDS are the ALU operations the generator picks from (per class, emission fixes the encoding). */
export const ALU_KINDS = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh',
  'arsh', 'mov', 'movsx', 'neg', 'le', 'be', 'bswap'] as const;
/** AluKind is one ALU operation name. */
export type AluKind = (typeof ALU_KINDS)[number];

/** JMP_CONDS are the conditional jump operations. */
export const JMP_CONDS = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'] as const;
/** JmpCond is one conditional jump name. */
export type JmpCond = (typeof JMP_CONDS)[number];

/** ATOMIC_KINDS are the atomic operations (imm field of STX|ATOMIC). */
export const ATOMIC_KINDS = ['add', 'or', 'and', 'xor', 'fadd', 'for', 'fand', 'fxor', 'xchg', 'cmpxchg'] as const;
/** AtomicKind is one atomic operation name. */
export type AtomicKind = (typeof ATOMIC_KINDS)[number];

/** AluItem is one ALU instruction; `wide` selects ALU64. */
export interface AluItem {
  k: 'alu'; kind: AluKind; wide: boolean; x: boolean; dst: number; src: number; imm: number;
  /** shift count / movsx width / byte-swap width selector */
  sel: number;
}
/** Cond is a condition shared by jumps, if/else and loops. */
export interface Cond { cond: JmpCond; wide: boolean; x: boolean; dst: number; src: number; imm: number }
/** JmpItem is a forward conditional jump over the next `skip` sibling items. */
export interface JmpItem extends Cond { k: 'jmp'; skip: number }
/** IfElseItem is `if cond goto else; then...; ja/gotol end; else: ...; end:`. */
export interface IfElseItem extends Cond { k: 'ifelse'; gotol: boolean; then: Item[]; else: Item[] }
/** LoopItem is a counter loop: `cnt = n; do { body } while (--cnt != 0)`. */
export interface LoopItem { k: 'loop'; counter: number; n: number; body: Item[] }
/** LdItem is a load (zero- or sign-extending) from the packet or the stack. */
export interface LdItem { k: 'ld'; pkt: boolean; size: number; sx: boolean; dst: number; off: number }
/** StItem is a store of a register or an immediate to the packet or the stack. */
export interface StItem { k: 'st'; pkt: boolean; size: number; x: boolean; src: number; imm: number; off: number }
/** AtomicItem is an atomic read-modify-write on a stack slot. */
export interface AtomicItem { k: 'atomic'; kind: AtomicKind; dw: boolean; src: number; off: number }
/** LddwItem is a 64-bit immediate load. */
export interface LddwItem { k: 'lddw'; dst: number; value: bigint }
/** CallItem is a bpf-to-bpf call; r1..r5 are set to `reinit` afterwards (the verifier clobbers them). */
export interface CallItem { k: 'call'; sub: number; reinit: number[] }
/** LdAbsItem is a legacy packet load (LD_ABS, or LD_IND with the index register masked to 0..127); skb programs only. */
export interface LdAbsItem { k: 'ldabs'; ind: boolean; size: number; src: number; imm: number; reinit: number[] }
/** Item is one element of a generated body. */
export type Item = AluItem | JmpItem | IfElseItem | LoopItem | LdItem | StItem | AtomicItem | LddwItem | CallItem | LdAbsItem;

/** SubSpec is a subprogram: initial r0 and r6..r9, initial stack slots, body. */
export interface SubSpec { init: bigint[]; stack: bigint[]; body: Item[] }
/**
 * ProgSpec is a whole generated program with its input packet. `skb` programs are SCHED_CLS
 * (context struct __sk_buff, kept in r6 for LD_ABS/LD_IND) instead of XDP, without subprograms.
 */
export interface ProgSpec { init: bigint[]; stack: bigint[]; body: Item[]; subs: SubSpec[]; packet: Uint8Array; skb?: boolean }

/** PKT_CHECKED is the packet length the prologue's bounds check guarantees. */
export const PKT_CHECKED = 160;
/** STACK_SLOTS is the number of 8-byte stack slots each frame initialises and uses. */
export const STACK_SLOTS = 8;

const aluItem: fc.Arbitrary<Item> = fc.record({
  k: fc.constant('alu' as const), kind: fc.constantFrom(...ALU_KINDS), wide: fc.boolean(), x: fc.boolean(),
  dst: reg, src: reg, imm: imm32, sel: fc.nat(63),
});

const cond = {
  cond: fc.constantFrom(...JMP_CONDS), wide: fc.boolean(), x: fc.boolean(), dst: reg, src: reg, imm: imm32,
};

const memOff = fc.nat(PKT_CHECKED - 1);
const size = fc.constantFrom(1, 2, 4, 8);

const leaf: fc.Arbitrary<Item> = fc.oneof(
  { weight: 10, arbitrary: aluItem },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('ld' as const), pkt: fc.boolean(), size, sx: fc.boolean(), dst: reg, off: memOff }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('st' as const), pkt: fc.boolean(), size, x: fc.boolean(), src: reg, imm: imm32, off: memOff }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('atomic' as const), kind: fc.constantFrom(...ATOMIC_KINDS), dw: fc.boolean(), src: reg, off: memOff }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('lddw' as const), dst: reg, value: u64 }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('jmp' as const), ...cond, skip: fc.nat(5) }) },
);

const ldAbsItem: fc.Arbitrary<Item> = fc.record({
  k: fc.constant('ldabs' as const), ind: fc.boolean(), size: fc.constantFrom(1, 2, 4), src: reg,
  imm: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: PKT_CHECKED }) }, fc.integer({ min: -8, max: PKT_CHECKED + 64 })),
  reinit: fc.array(imm32, { minLength: 5, maxLength: 5 }),
});

const callItem: fc.Arbitrary<Item> = fc.record({
  k: fc.constant('call' as const), sub: fc.nat(1), reinit: fc.array(imm32, { minLength: 5, maxLength: 5 }),
});

function compound(inner: fc.Arbitrary<Item[]>, short: fc.Arbitrary<Item[]>): fc.Arbitrary<Item> {
  return fc.oneof(
    fc.record({ k: fc.constant('ifelse' as const), ...cond, gotol: fc.boolean(), then: inner, else: inner }),
    fc.record({ k: fc.constant('loop' as const), counter: fc.integer({ min: 6, max: 8 }), n: fc.integer({ min: 1, max: 4 }), body: short }),
  );
}

/** bodyArb generates a body of up to `max` items; compound items nest one level. */
export function bodyArb(max: number, withCalls: boolean, size: fc.SizeForArbitrary = 'medium', skb = false): fc.Arbitrary<Item[]> {
  const leaves = skb ? fc.oneof({ weight: 12, arbitrary: leaf }, { weight: 1, arbitrary: ldAbsItem }) : leaf;
  const inner = fc.array(leaves, { maxLength: 5 });
  const short = fc.array(leaves, { maxLength: 6 });
  const parts = [
    { weight: 12, arbitrary: leaves },
    { weight: 1, arbitrary: compound(inner, short) },
    ...(withCalls ? [{ weight: 1, arbitrary: callItem }] : []),
  ];
  return fc.array(fc.oneof(...parts), { maxLength: max, size });
}

/** SpecOptions size the generated programs. */
export interface SpecOptions {
  /** maximum top-level items of the main body (default 40) */
  maxItems?: number;
  /** maximum subprograms (default 2) */
  maxSubs?: number;
  /** size of the main body (fast-check size; default 'medium') */
  size?: fc.SizeForArbitrary;
  /** share of SCHED_CLS programs with LD_ABS/LD_IND, 0..1 (default 0.25) */
  skbShare?: number;
}

/** progSpecArb generates whole programs with their input packets (XDP, and some SCHED_CLS ones). */
export function progSpecArb(opts: SpecOptions = {}): fc.Arbitrary<ProgSpec> {
  const share = opts.skbShare ?? 0.25;
  const xdp = xdpSpecArb(opts);
  if (share <= 0) return xdp;
  const weight = Math.round(share * 100);
  return fc.oneof({ weight: 100 - weight, arbitrary: xdp }, { weight, arbitrary: skbSpecArb(opts) });
}

/** skbSpecArb generates SCHED_CLS programs (no subprograms; LD_ABS/LD_IND items). */
export function skbSpecArb(opts: SpecOptions = {}): fc.Arbitrary<ProgSpec> {
  return fc.record({
    init: fc.array(u64, { minLength: 9, maxLength: 9 }),
    stack: fc.array(u64, { minLength: STACK_SLOTS, maxLength: STACK_SLOTS }),
    body: bodyArb(opts.maxItems ?? 40, false, opts.size ?? 'medium', true),
    subs: fc.constant([]),
    packet: fc.uint8Array({ minLength: PKT_CHECKED, maxLength: PKT_CHECKED + 40 }),
    skb: fc.constant(true),
  });
}

/** xdpSpecArb generates XDP programs with bpf-to-bpf calls. */
export function xdpSpecArb(opts: SpecOptions = {}): fc.Arbitrary<ProgSpec> {
  const sub: fc.Arbitrary<SubSpec> = fc.record({
    init: fc.array(u64, { minLength: 5, maxLength: 5 }),
    stack: fc.array(u64, { minLength: STACK_SLOTS, maxLength: STACK_SLOTS }),
    body: bodyArb(12, true, 'small'),
  });
  return fc.record({
    init: fc.array(u64, { minLength: 9, maxLength: 9 }),
    stack: fc.array(u64, { minLength: STACK_SLOTS, maxLength: STACK_SLOTS }),
    body: bodyArb(opts.maxItems ?? 40, (opts.maxSubs ?? 2) > 0, opts.size ?? 'medium'),
    subs: fc.array(sub, { maxLength: opts.maxSubs ?? 2 }),
    packet: fc.uint8Array({ minLength: PKT_CHECKED, maxLength: PKT_CHECKED + 40 }),
  });
}
