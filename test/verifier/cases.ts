/**
 * Accept/reject cases for the verifier, written from the semantics (docs/verifier.md): each
 * is a program in assembly, its program type and the rejection code expected (or 'ok').
 * The same table drives the unit test and the differential test against the kernel.
 *
 * Maps used by the cases (fd -> map), also created in the kernel for the differential test.
 */
import type { MapInfo } from '../../src/core/verifier/maps.js';
import type { ProgType } from '../../src/core/verifier/ctx.js';
import type { RejectCode } from '../../src/core/verifier/codes.js';

/** MAPS are the maps cases refer to with `ld_pseudo rN, 1, FD`. */
export const MAPS = new Map<number, MapInfo>([
  [1, { type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16 }],
  [2, { type: 'array', keySize: 4, valueSize: 16, maxEntries: 4 }],
  [3, { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 }],
  [4, { type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 4 }],
  [5, { type: 'queue', keySize: 0, valueSize: 8, maxEntries: 16 }],
  [6, { type: 'array', keySize: 4, valueSize: 64, maxEntries: 1 }],
  [7, { type: 'devmap', keySize: 4, valueSize: 4, maxEntries: 8 }],
  [8, { type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 4 }],
  [9, { type: 'hash', keySize: 4, valueSize: 16, maxEntries: 4, spinLockOff: 0 }],
]);

/** Case is one program and the verdict expected. */
export interface Case {
  name: string;
  asm: string;
  progType?: ProgType;
  /** raw programs: fixed data size */
  dataSize?: number;
  expect: 'ok' | RejectCode;
  /** the kernel is known to decide differently, on purpose (see docs/verifier.md) */
  kernelDiffers?: string;
}

const PKT = `
  r2 = *(u32 *)(r1 + 0)
  r3 = *(u32 *)(r1 + 4)`;
const RET0 = `
  r0 = 0
  exit`;
/** KEY puts a 4-byte key 0 at r10-4 and points r2 at it. */
const KEY = `
  *(u32 *)(r10 - 4) = 0
  r2 = r10
  r2 += -4`;
const LOOKUP = (fd: number): string => `${KEY}
  ld_pseudo r1, 1, ${fd}
  call 1`;

/** differs marks a case on which the kernel decides otherwise, on purpose. */
const differs = (why: string, c: Case): Case => ({ ...c, kernelDiffers: why });
const ok = (name: string, asm: string, progType?: ProgType): Case => ({ name, asm, progType, expect: 'ok' });
const bad = (name: string, expect: RejectCode, asm: string, progType?: ProgType): Case => ({ name, asm, progType, expect });

const controlFlow: Case[] = [
  ok('minimal', RET0),
  bad('falls off the end', 'NO_EXIT', 'r0 = 0'),
  bad('conditional jump as last insn', 'NO_EXIT', 'r0 = 0\n if r0 == 0 goto -2'),
  bad('unreachable insn', 'UNREACHABLE', 'r0 = 0\n exit\n r0 = 1\n exit'),
  bad('unreachable after goto', 'UNREACHABLE', 'r0 = 0\n goto +1\n r0 = 1\n exit'),
  bad('jump out of range', 'BAD_JUMP', 'r0 = 0\n goto +5\n exit'),
  bad('jump into lddw', 'BAD_JUMP', 'goto +1\n r0 = 1 ll\n exit'),
  bad('unknown opcode', 'INVALID_INSN', '.byte 0xff, 0, 0, 0, 0, 0, 0, 0\n exit'),
  bad('reserved field set', 'INVALID_INSN', '.byte 0xb7, 0x10, 0, 0, 0, 0, 0, 0\n exit'),
  bad('write to r10', 'INVALID_INSN', '.byte 0xb7, 0x0a, 0, 0, 0, 0, 0, 0\n exit'),
  ok('forward jumps', 'r0 = 0\n if r1 == 0 goto +1\n r0 = 1\n exit'),
  ok('gotol', 'r0 = 0\n if r1 == 0 goto +1\n gotol +1\n r0 = 1\n exit'),
  bad('bounded loop needs init', 'UNINIT_REG', 'loop:\n r3 += 1\n if r3 < 10 goto loop\n r0 = 0\n exit'),
  ok('bounded loop', 'r1 = 0\nloop:\n r1 += 1\n if r1 < 100 goto loop\n r0 = 0\n exit'),
  ok('bounded loop with jmp32', 'w1 = 0\nloop:\n w1 += 3\n if w1 < 1000 goto loop\n r0 = 0\n exit'),
  ok('down-counting loop', 'r1 = 50\nloop:\n r1 -= 1\n if r1 != 0 goto loop\n r0 = 0\n exit'),
  bad('infinite loop', 'INFINITE_LOOP', 'r1 = 0\nloop:\n r1 += 0\n if r1 == 0 goto loop\n r0 = 0\n exit'),
  bad('self loop', 'INFINITE_LOOP', 'r0 = 0\n if r1 == 0 goto +1\nl:\n goto l\n exit'),
  bad('loop never exits (unknown)', 'INFINITE_LOOP', 'call 7\n r6 = r0\nloop:\n call 7\n if r6 != 0 goto loop\n r0 = 0\n exit'),
  bad('unbounded counter loop', 'TOO_COMPLEX', 'r1 = 0\nloop:\n r1 += 1\n if r1 != 0 goto loop\n r0 = 0\n exit'),
  bad('loop of 2^32 steps', 'TOO_COMPLEX', 'w1 = 0\nloop:\n w1 += 1\n if w1 != 0 goto loop\n r0 = 0\n exit'),
  ok('nested bounded loops', 'r1 = 0\nouter:\n r2 = 0\ninner:\n r2 += 1\n if r2 < 5 goto inner\n r1 += 1\n if r1 < 5 goto outer\n r0 = 0\n exit'),
  bad('countdown from an unknown value', 'TOO_COMPLEX', 'call 7\n r1 = r0\nloop:\n if r1 == 0 goto out\n r1 -= 1\n goto loop\nout:\n r0 = 0\n exit'),
  ok('loop with unknown bound checked', 'call 7\n r1 = r0\n r1 &= 15\nloop:\n if r1 == 0 goto out\n r1 -= 1\n goto loop\nout:\n r0 = 0\n exit'),
];

const subprogs: Case[] = [
  ok('bpf-to-bpf call', 'call fn\n exit\nfn:\n r0 = 1\n exit'),
  ok('call with args', 'r1 = 5\n call fn\n exit\nfn:\n r0 = r1\n exit'),
  bad('callee reads uninit arg', 'UNINIT_REG', 'call fn\n exit\nfn:\n r0 = r3\n exit'),
  bad('caller r1 clobbered after call', 'UNINIT_REG', 'r1 = 1\n call fn\n r0 = r1\n exit\nfn:\n r0 = 0\n exit'),
  ok('callee-saved r6 kept', 'r6 = 7\n call fn\n r0 = r6\n exit\nfn:\n r0 = 0\n exit'),
  bad('callee r6 uninit', 'UNINIT_REG', 'r6 = 7\n call fn\n exit\nfn:\n r0 = r6\n exit'),
  bad('recursion', 'RECURSIVE_CALL', 'call fn\n exit\nfn:\n call fn\n r0 = 0\n exit'),
  bad('jump across subprograms', 'BAD_JUMP', 'call fn\n goto fn2\n exit\nfn:\nfn2:\n r0 = 0\n exit'),
  bad('subprogram falls into next', 'NO_EXIT', 'call fn\n exit\nfn:\n r0 = 0\n'),
  ok('stack pointer argument', '*(u64 *)(r10 - 8) = 0\n r1 = r10\n r1 += -8\n call fn\n exit\nfn:\n r0 = *(u64 *)(r1 + 0)\n exit'),
  bad('return stack pointer', 'RET_STACK_PTR', 'call fn\n r0 = 0\n exit\nfn:\n r0 = r10\n exit'),
  bad('nine frames', 'CALL_DEPTH', 'call f1\n exit\nf1:\n call f2\n exit\nf2:\n call f3\n exit\nf3:\n call f4\n exit\nf4:\n call f5\n exit\nf5:\n call f6\n exit\nf6:\n call f7\n exit\nf7:\n call f8\n exit\nf8:\n r0 = 0\n exit'),
  ok('eight frames', 'call f1\n exit\nf1:\n call f2\n exit\nf2:\n call f3\n exit\nf3:\n call f4\n exit\nf4:\n call f5\n exit\nf5:\n call f6\n exit\nf6:\n call f7\n exit\nf7:\n r0 = 0\n exit'),
  bad('combined stack too large', 'STACK_TOO_LARGE', '*(u64 *)(r10 - 512) = 0\n call fn\n exit\nfn:\n *(u64 *)(r10 - 16) = 0\n r0 = 0\n exit'),
  ok('combined stack at limit', '*(u64 *)(r10 - 256) = 0\n call fn\n exit\nfn:\n *(u64 *)(r10 - 256) = 0\n r0 = 0\n exit'),
  bad('callee store stack ptr into caller', 'STACK_PTR_SPILL', '*(u64 *)(r10 - 8) = 0\n r1 = r10\n r1 += -8\n call fn\n exit\nfn:\n *(u64 *)(r1 + 0) = r10\n r0 = 0\n exit'),
  bad('callee writes an unsafe offset into the caller stack on one path', 'STACK_OUT_OF_BOUNDS',
    '*(u64 *)(r10 - 8) = 0\n *(u64 *)(r10 - 16) = 0\n r1 = r10\n r1 += -16\n call fn\n r3 = *(u64 *)(r10 - 16)\n r2 = r10\n r2 += -16\n r2 += r3\n r0 = *(u64 *)(r2 + 0)\n exit\n'
    + 'fn:\n r6 = r1\n call 7\n if r0 == 0 goto +2\n r3 = 8\n goto +1\n r3 = 16\n *(u64 *)(r6 + 0) = r3\n r0 = 0\n exit'),
  bad('subprog R0 uninit', 'UNINIT_REG', 'call fn\n exit\nfn:\n exit'),
  ok('subprog may leave R0 unset', 'r6 = 7\n call fn\n r0 = r6\n exit\nfn:\n r7 = 0\n exit'),
];

const registers: Case[] = [
  bad('r0 uninit at exit', 'UNINIT_REG', 'exit'),
  bad('read uninit r2', 'UNINIT_REG', 'r0 = r2\n exit'),
  bad('alu on uninit', 'UNINIT_REG', 'r3 += 1\n r0 = 0\n exit'),
  ok('r1 is ctx', 'r0 = 0\n r2 = r1\n exit'),
  differs('the kernel lets root return a pointer from XDP; tsbpf requires an action code (scalar)', bad('return ctx pointer', 'RET_NOT_SCALAR', 'r0 = r1\n exit')),
  differs('the kernel lets root return a pointer from XDP; tsbpf requires an action code (scalar)', bad('return stack pointer from main', 'RET_NOT_SCALAR', 'r0 = r10\n exit')),
  ok('return pointer difference', 'r0 = r10\n r0 -= r1\n exit'),
  bad('div by zero imm', 'DIV_BY_ZERO', 'r0 = 1\n r0 /= 0\n exit'),
  bad('mod by zero imm', 'DIV_BY_ZERO', 'r0 = 1\n r0 %= 0\n exit'),
  ok('div by zero reg is defined', 'r0 = 1\n r1 = 0\n r0 /= r1\n exit'),
  bad('shift too far', 'INVALID_SHIFT', 'r0 = 1\n r0 <<= 64\n exit'),
  bad('shift32 too far', 'INVALID_SHIFT', 'w0 = 1\n w0 <<= 32\n exit'),
  ok('shift by reg', 'r0 = 1\n r1 = 70\n r0 <<= r1\n exit'),
  ok('all alu ops', 'r0 = 7\n r0 += 1\n r0 -= 2\n r0 *= 3\n r0 /= 2\n r0 |= 8\n r0 &= 0xff\n r0 <<= 2\n r0 >>= 1\n r0 %= 7\n r0 ^= 3\n r0 s>>= 1\n r0 = -r0\n r0 = be16 r0\n r0 = le32 r0\n r0 = bswap64 r0\n exit'),
  ok('alu32 ops', 'w0 = 7\n w0 += 1\n w0 s/= 3\n w0 s%= 2\n w0 = (s8)w0\n exit'),
  ok('movsx', 'r1 = 0xff\n r0 = (s8)r1\n r0 = (s16)r0\n r0 = (s32)r0\n exit'),
  ok('lddw', 'r0 = 0x123456789abcdef ll\n exit'),
];

const pointers: Case[] = [
  bad('deref scalar', 'INVALID_MEM_ACCESS', 'r1 = 0\n r0 = *(u64 *)(r1 + 0)\n exit'),
  bad('deref pkt_end', 'INVALID_MEM_ACCESS', `${PKT}\n r0 = *(u8 *)(r3 + 0)\n exit`),
  // a store at data_end - 2 after proving the packet holds 64 bytes: still an access through
  // pkt_end, which the kernel never allows (the first xdp_trim example did this)
  bad('store via pkt_end after bounds check', 'INVALID_MEM_ACCESS', `${PKT}
 r4 = r2
 r4 += 64
 if r4 > r3 goto +2
 r5 = 1
 *(u8 *)(r3 - 2) = r5
 r0 = 0
 exit`),
  bad('32-bit pointer add', 'PTR_ARITH', 'w1 += 1\n r0 = 0\n exit'),
  bad('pointer and', 'PTR_ARITH', 'r1 &= 0xff\n r0 = 0\n exit'),
  bad('pointer multiply', 'PTR_ARITH', 'r1 *= 2\n r0 = 0\n exit'),
  bad('pointer plus pointer', 'PTR_ARITH', 'r1 += r10\n r0 = 0\n exit'),
  bad('scalar minus pointer', 'PTR_ARITH', 'r0 = 0\n r0 -= r1\n exit'),
  ok('scalar plus pointer', 'r2 = 8\n r2 += r10\n *(u64 *)(r2 - 16) = 1\n r0 = 0\n exit'),
  bad('pkt_end arithmetic', 'PTR_ARITH', `${PKT}\n r3 += 1\n r0 = 0\n exit`),
  bad('unbounded scalar added to pointer', 'PTR_OUT_OF_RANGE', `call 7\n r1 = r10\n r1 += r0\n r0 = 0\n exit`),
  bad('huge constant added to pointer', 'PTR_OUT_OF_RANGE', 'r2 = 0x20000000\n r1 = r10\n r1 += r2\n r0 = 0\n exit'),
  ok('pointer leak into map value', `${LOOKUP(1)}\n if r0 == 0 goto out\n *(u64 *)(r0 + 0) = r10\nout:\n r0 = 0\n exit`),
  ok('pointer to scalar via mov32', 'w0 = w10\n exit'),
  ok('pointer compare', 'r0 = 0\n if r1 == r10 goto +1\n r0 = 1\n exit'),
];

const stack: Case[] = [
  ok('store then load', '*(u64 *)(r10 - 8) = 5\n r0 = *(u64 *)(r10 - 8)\n exit'),
  differs("root may read uninitialised stack in the kernel; tsbpf's checked mode faults on it, so the verifier rejects", bad('uninit stack read', 'UNINIT_STACK', 'r0 = *(u64 *)(r10 - 8)\n exit')),
  differs("root may read uninitialised stack in the kernel; tsbpf's checked mode faults on it, so the verifier rejects", bad('partially init read', 'UNINIT_STACK', '*(u32 *)(r10 - 8) = 5\n r0 = *(u64 *)(r10 - 8)\n exit')),
  ok('byte stores then word read', '*(u16 *)(r10 - 4) = 1\n *(u16 *)(r10 - 2) = 2\n r0 = *(u32 *)(r10 - 4)\n exit'),
  bad('stack overflow', 'STACK_OUT_OF_BOUNDS', '*(u64 *)(r10 - 520) = 0\n r0 = 0\n exit'),
  bad('above frame', 'STACK_OUT_OF_BOUNDS', '*(u64 *)(r10 + 0) = 0\n r0 = 0\n exit'),
  bad('straddles top', 'STACK_OUT_OF_BOUNDS', '*(u32 *)(r10 + 4) = 0\n r0 = 0\n exit'),
  ok('bottom of stack', '*(u64 *)(r10 - 512) = 0\n r0 = *(u64 *)(r10 - 512)\n exit'),
  bad('misaligned', 'MISALIGNED_STACK', '*(u64 *)(r10 - 12) = 0\n r0 = 0\n exit'),
  bad('misaligned word', 'MISALIGNED_STACK', '*(u32 *)(r10 - 6) = 0\n r0 = 0\n exit'),
  ok('spill and fill pointer', '*(u64 *)(r10 - 8) = r1\n r2 = *(u64 *)(r10 - 8)\n r0 = *(u32 *)(r2 + 12)\n exit'),
  bad('fill pointer partially', 'INVALID_FILL', '*(u64 *)(r10 - 8) = r1\n r0 = *(u32 *)(r10 - 8)\n exit'),
  bad('narrow pointer spill', 'INVALID_FILL', '*(u32 *)(r10 - 8) = r1\n r0 = 0\n exit'),
  ok('overwrite spilled pointer with data', '*(u64 *)(r10 - 8) = r1\n *(u32 *)(r10 - 8) = 0\n r0 = *(u32 *)(r10 - 4)\n exit'),
  bad('spilled pointer clobbered then used', 'INVALID_MEM_ACCESS', '*(u64 *)(r10 - 8) = r1\n *(u8 *)(r10 - 8) = 0\n r2 = *(u64 *)(r10 - 8)\n r0 = *(u32 *)(r2 + 12)\n exit'),
  ok('spilled scalar keeps bounds', `${PKT}\n r4 = 4\n *(u64 *)(r10 - 8) = r4\n r5 = *(u64 *)(r10 - 8)\n r2 += r5\n r4 = r2\n r4 += 2\n if r4 > r3 goto +1\n r0 = *(u16 *)(r2 + 0)\n r0 = 0\n exit`),
  ok('var offset stack read of init bytes', '*(u64 *)(r10 - 16) = 0\n *(u64 *)(r10 - 8) = 0\n call 7\n r0 &= 8\n r1 = r10\n r1 += -16\n r1 += r0\n r0 = *(u64 *)(r1 + 0)\n exit'),
  differs("root may read uninitialised stack in the kernel; tsbpf's checked mode faults on it, so the verifier rejects", bad('var offset stack read of uninit', 'UNINIT_STACK', '*(u64 *)(r10 - 8) = 0\n call 7\n r0 &= 8\n r1 = r10\n r1 += -16\n r1 += r0\n r0 = *(u64 *)(r1 + 0)\n exit')),
  bad('var offset out of frame', 'STACK_OUT_OF_BOUNDS', 'call 7\n r0 &= 0xff\n r1 = r10\n r1 += -16\n r1 += r0\n *(u8 *)(r1 + 0) = 0\n r0 = 0\n exit'),
  ok('atomic add on stack', '*(u64 *)(r10 - 8) = 1\n r1 = 2\n lock *(u64 *)(r10 - 8) += r1\n r0 = *(u64 *)(r10 - 8)\n exit'),
  differs("root may read uninitialised stack in the kernel; tsbpf's checked mode faults on it, so the verifier rejects", bad('atomic on uninit stack', 'UNINIT_STACK', 'r1 = 2\n lock *(u64 *)(r10 - 8) += r1\n r0 = 0\n exit')),
  ok('cmpxchg on stack', '*(u64 *)(r10 - 8) = 1\n r0 = 1\n r1 = 2\n r0 = cmpxchg_64(r10 - 8, r0, r1)\n exit'),
  bad('cmpxchg needs r0', 'UNINIT_REG', '*(u64 *)(r10 - 8) = 1\n r1 = 2\n r0 = cmpxchg_64(r10 - 8, r0, r1)\n exit'),
  ok('fetch add result', '*(u64 *)(r10 - 8) = 1\n r1 = 2\n r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)\n r0 = r1\n exit'),
  ok('zero store reads zero', '*(u32 *)(r10 - 8) = 0\n *(u32 *)(r10 - 4) = 0\n r0 = *(u64 *)(r10 - 8)\n exit'),
];

const xdpCtx: Case[] = [
  ok('read data/data_end/meta', 'r2 = *(u32 *)(r1 + 0)\n r3 = *(u32 *)(r1 + 4)\n r4 = *(u32 *)(r1 + 8)\n r0 = 0\n exit'),
  ok('read ingress_ifindex', 'r0 = *(u32 *)(r1 + 12)\n exit'),
  ok('read rx_queue_index', 'r0 = *(u32 *)(r1 + 16)\n exit'),
  bad('read egress_ifindex', 'CTX_ACCESS', 'r0 = *(u32 *)(r1 + 20)\n exit'),
  bad('ctx out of range', 'CTX_ACCESS', 'r0 = *(u32 *)(r1 + 24)\n exit'),
  bad('narrow data load', 'CTX_ACCESS', 'r0 = *(u16 *)(r1 + 0)\n exit'),
  bad('narrow ifindex load', 'CTX_ACCESS', 'r0 = *(u8 *)(r1 + 12)\n exit'),
  bad('wide ctx load', 'CTX_ACCESS', 'r0 = *(u64 *)(r1 + 0)\n exit'),
  bad('ctx write', 'CTX_ACCESS', 'r2 = 1\n *(u32 *)(r1 + 12) = r2\n r0 = 0\n exit'),
  bad('ctx st imm', 'CTX_ACCESS', '*(u32 *)(r1 + 12) = 1\n r0 = 0\n exit'),
  bad('modified ctx', 'MODIFIED_CTX', 'r1 += 4\n r0 = *(u32 *)(r1 + 0)\n exit'),
  bad('ctx misaligned', 'CTX_ACCESS', 'r0 = *(u32 *)(r1 + 2)\n exit'),
];

const packet: Case[] = [
  ok('checked packet read', `${PKT}\n r4 = r2\n r4 += 14\n if r4 > r3 goto +1\n r0 = *(u8 *)(r2 + 13)\n r0 = 0\n exit`),
  bad('unchecked packet read', 'PKT_OUT_OF_BOUNDS', `${PKT}\n r0 = *(u8 *)(r2 + 0)\n exit`),
  bad('read past checked range', 'PKT_OUT_OF_BOUNDS', `${PKT}\n r4 = r2\n r4 += 14\n if r4 > r3 goto +1\n r0 = *(u8 *)(r2 + 14)\n r0 = 0\n exit`),
  bad('wrong branch', 'PKT_OUT_OF_BOUNDS', `${PKT}\n r4 = r2\n r4 += 14\n if r4 > r3 goto +2\n r0 = 0\n exit\n r0 = *(u8 *)(r2 + 0)\n exit`),
  ok('check with >= (strict)', `${PKT}\n r4 = r2\n r4 += 14\n if r4 >= r3 goto +1\n r0 = *(u8 *)(r2 + 14)\n r0 = 0\n exit`),
  ok('check with <', `${PKT}\n r4 = r2\n r4 += 8\n if r4 < r3 goto +2\n r0 = 0\n exit\n r0 = *(u64 *)(r2 + 0)\n r0 = 0\n exit`),
  ok('check with <=', `${PKT}\n r4 = r2\n r4 += 8\n if r4 <= r3 goto +2\n r0 = 0\n exit\n r0 = *(u64 *)(r2 + 0)\n r0 = 0\n exit`),
  ok('end > data form', `${PKT}\n r4 = r2\n r4 += 8\n if r3 > r4 goto +2\n r0 = 0\n exit\n r0 = *(u64 *)(r2 + 0)\n r0 = 0\n exit`),
  ok('end >= data form', `${PKT}\n r4 = r2\n r4 += 8\n if r3 >= r4 goto +2\n r0 = 0\n exit\n r0 = *(u64 *)(r2 + 0)\n r0 = 0\n exit`),
  ok('end < data form', `${PKT}\n r4 = r2\n r4 += 8\n if r3 < r4 goto +3\n r0 = *(u64 *)(r2 + 0)\n r0 = 0\n exit\n r0 = 0\n exit`),
  ok('end <= data form', `${PKT}\n r4 = r2\n r4 += 8\n if r3 <= r4 goto +3\n r0 = *(u32 *)(r2 + 4)\n r0 = 0\n exit\n r0 = 0\n exit`),
  bad('end <= data form off by one', 'PKT_OUT_OF_BOUNDS', `${PKT}\n r4 = r2\n r4 += 8\n if r3 <= r4 goto +3\n r0 = *(u64 *)(r2 + 2)\n r0 = 0\n exit\n r0 = 0\n exit`),
  ok('packet write', `${PKT}\n r4 = r2\n r4 += 4\n if r4 > r3 goto +1\n *(u32 *)(r2 + 0) = 1\n r0 = 0\n exit`),
  bad('packet negative offset', 'PKT_OUT_OF_BOUNDS', `${PKT}\n r4 = r2\n r4 += 4\n if r4 > r3 goto +1\n r0 = *(u8 *)(r2 - 1)\n r0 = 0\n exit`),
  ok('variable packet offset checked', `${PKT}\n r4 = *(u32 *)(r1 + 12)\n r4 &= 0x3f\n r2 += r4\n r5 = r2\n r5 += 2\n if r5 > r3 goto +1\n r0 = *(u16 *)(r2 + 0)\n r0 = 0\n exit`),
  bad('variable offset after check', 'PKT_OUT_OF_BOUNDS', `${PKT}\n r5 = r2\n r5 += 64\n if r5 > r3 goto +4\n r4 = *(u32 *)(r1 + 12)\n r4 &= 0x3f\n r2 += r4\n r0 = *(u8 *)(r2 + 0)\n r0 = 0\n exit`),
  bad('unbounded variable packet offset', 'PTR_OUT_OF_RANGE', `${PKT}\n r4 = *(u32 *)(r1 + 12)\n r4 <<= 32\n r4 s>>= 32\n r2 += r4\n r0 = 0\n exit`),
  ok('range shared by copies', `${PKT}\n r5 = r2\n r4 = r2\n r4 += 10\n if r4 > r3 goto +1\n r0 = *(u16 *)(r5 + 8)\n r0 = 0\n exit`),
  ok('data_meta before data', 'r2 = *(u32 *)(r1 + 8)\n r3 = *(u32 *)(r1 + 0)\n r4 = r2\n r4 += 4\n if r4 > r3 goto +1\n r0 = *(u32 *)(r2 + 0)\n r0 = 0\n exit'),
  bad('data_meta unchecked', 'PKT_OUT_OF_BOUNDS', 'r2 = *(u32 *)(r1 + 8)\n r0 = *(u32 *)(r2 + 0)\n exit'),
  bad('packet pointer after adjust_head', 'INVALID_MEM_ACCESS', `r6 = r1\n ${PKT}\n r4 = r2\n r4 += 4\n if r4 > r3 goto +5\n r7 = r2\n r1 = r6\n r2 = 4\n call 44\n r0 = *(u8 *)(r7 + 0)\n r0 = 0\n exit`),
  ok('reload after adjust_head', `r6 = r1\n r2 = 4\n call 44\n r1 = r6\n ${PKT}\n r4 = r2\n r4 += 4\n if r4 > r3 goto +1\n r0 = *(u8 *)(r2 + 0)\n r0 = 0\n exit`),
  bad('packet pointer add 32-bit', 'PTR_ARITH', `${PKT}\n w2 += 1\n r0 = 0\n exit`),
  ok('packet loop', `${PKT}\n r6 = 0\nloop:\n r4 = r2\n r4 += 1\n if r4 > r3 goto out\n r0 = *(u8 *)(r2 + 0)\n r2 += 1\n r6 += 1\n if r6 < 16 goto loop\nout:\n r0 = 0\n exit`),
];

const skb: Case[] = [
  ok('tc read len', 'r0 = *(u32 *)(r1 + 0)\n exit', 'sched_cls'),
  ok('tc narrow read', 'r0 = *(u8 *)(r1 + 0)\n exit', 'sched_cls'),
  ok('tc narrow read at field end', 'r0 = *(u16 *)(r1 + 2)\n exit', 'sched_cls'),
  ok('tc write mark', 'r2 = 1\n *(u32 *)(r1 + 8) = r2\n r0 = 0\n exit', 'sched_cls'),
  bad('tc write len', 'CTX_ACCESS', 'r2 = 1\n *(u32 *)(r1 + 0) = r2\n r0 = 0\n exit', 'sched_cls'),
  ok('tc cb write and read', 'r2 = 1\n *(u64 *)(r1 + 48) = r2\n r0 = *(u32 *)(r1 + 52)\n exit', 'sched_cls'),
  bad('tc cb overflow', 'CTX_ACCESS', 'r0 = *(u64 *)(r1 + 64)\n exit', 'sched_cls'),
  ok('tc packet access', 'r2 = *(u32 *)(r1 + 76)\n r3 = *(u32 *)(r1 + 80)\n r4 = r2\n r4 += 2\n if r4 > r3 goto +1\n r0 = *(u16 *)(r2 + 0)\n r0 = 0\n exit', 'sched_cls'),
  bad('tc family hidden', 'CTX_ACCESS', 'r0 = *(u32 *)(r1 + 88)\n exit', 'sched_cls'),
  bad('tc data narrow', 'CTX_ACCESS', 'r0 = *(u16 *)(r1 + 76)\n exit', 'sched_cls'),
  ok('tc tstamp rw', 'r0 = *(u64 *)(r1 + 152)\n *(u64 *)(r1 + 152) = r0\n r0 = 0\n exit', 'sched_cls'),
  bad('tc tstamp narrow', 'CTX_ACCESS', 'r0 = *(u32 *)(r1 + 152)\n exit', 'sched_cls'),
  bad('socket filter no data', 'CTX_ACCESS', 'r0 = *(u32 *)(r1 + 76)\n exit', 'socket_filter'),
  ok('socket filter len', 'r0 = *(u32 *)(r1 + 0)\n exit', 'socket_filter'),
  bad('socket filter write mark', 'CTX_ACCESS', 'r2 = 1\n *(u32 *)(r1 + 8) = r2\n r0 = 0\n exit', 'socket_filter'),
  ok('socket filter cb write', 'r2 = 1\n *(u32 *)(r1 + 48) = r2\n r0 = 0\n exit', 'socket_filter'),
  ok('ld_abs', 'r6 = r1\n r0 = *(u16 *)skb[12]\n exit', 'socket_filter'),
  ok('ld_ind', 'r6 = r1\n r7 = 14\n r0 = *(u8 *)skb[r7 + 0]\n exit', 'sched_cls'),
  bad('ld_abs without ctx in r6', 'LD_ABS', 'r6 = 0\n r0 = *(u16 *)skb[12]\n exit', 'socket_filter'),
  bad('ld_abs in xdp', 'LD_ABS', 'r6 = r1\n r0 = *(u16 *)skb[12]\n exit'),
  bad('ld_abs clobbers r1', 'UNINIT_REG', 'r6 = r1\n r0 = *(u16 *)skb[12]\n r0 = r1\n exit', 'socket_filter'),
  ok('skb_load_bytes', 'r2 = 0\n r3 = r10\n r3 += -8\n r4 = 8\n call 26\n r0 = *(u64 *)(r10 - 8)\n exit', 'sched_cls'),
  bad('skb_load_bytes too big', 'STACK_OUT_OF_BOUNDS', 'r2 = 0\n r3 = r10\n r3 += -8\n r4 = 16\n call 26\n r0 = 0\n exit', 'sched_cls'),
];

const maps: Case[] = [
  ok('lookup and null check', `${LOOKUP(1)}\n if r0 == 0 goto out\n r0 = *(u64 *)(r0 + 0)\nout:\n r0 = 0\n exit`),
  bad('lookup without null check', 'NULL_POINTER', `${LOOKUP(1)}\n r0 = *(u64 *)(r0 + 0)\n exit`),
  ok('array lookup with constant key cannot fail', `${LOOKUP(2)}\n r0 = *(u8 *)(r0 + 15)\n exit`),
  bad('array lookup with key past the end', 'NULL_POINTER', `*(u32 *)(r10 - 4) = 4\n r2 = r10\n r2 += -4\n ld_pseudo r1, 1, 2\n call 1\n r0 = *(u8 *)(r0 + 0)\n exit`),
  bad('array lookup with unknown key', 'NULL_POINTER', `call 7\n *(u32 *)(r10 - 4) = r0\n r2 = r10\n r2 += -4\n ld_pseudo r1, 1, 2\n call 1\n r0 = *(u8 *)(r0 + 0)\n exit`),
  ok('null check with !=', `${LOOKUP(1)}\n if r0 != 0 goto +2\n r0 = 0\n exit\n r0 = *(u64 *)(r0 + 0)\n exit`),
  ok('null check on a copy', `${LOOKUP(1)}\n r6 = r0\n if r0 == 0 goto out\n r0 = *(u64 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  bad('null branch deref', 'INVALID_MEM_ACCESS', `${LOOKUP(1)}\n if r0 != 0 goto out\n r0 = *(u64 *)(r0 + 0)\nout:\n r0 = 0\n exit`),
  bad('map value out of bounds', 'MAP_VALUE_OUT_OF_BOUNDS', `${LOOKUP(1)}\n if r0 == 0 goto out\n r0 = *(u64 *)(r0 + 1)\nout:\n r0 = 0\n exit`),
  bad('map value negative offset', 'MAP_VALUE_OUT_OF_BOUNDS', `${LOOKUP(1)}\n if r0 == 0 goto out\n r0 = *(u8 *)(r0 - 1)\nout:\n r0 = 0\n exit`),
  ok('map value last byte', `${LOOKUP(2)}\n if r0 == 0 goto out\n r0 = *(u8 *)(r0 + 15)\nout:\n r0 = 0\n exit`),
  ok('map value var offset bounded', `${LOOKUP(2)}\n if r0 == 0 goto out\n r1 = *(u64 *)(r0 + 0)\n r1 &= 7\n r0 += r1\n r0 = *(u64 *)(r0 + 0)\nout:\n r0 = 0\n exit`),
  bad('map value var offset too big', 'MAP_VALUE_OUT_OF_BOUNDS', `${LOOKUP(2)}\n if r0 == 0 goto out\n r1 = *(u64 *)(r0 + 0)\n r1 &= 15\n r0 += r1\n r0 = *(u64 *)(r0 + 0)\nout:\n r0 = 0\n exit`),
  bad('map value var offset unbounded', 'UNBOUNDED_MEM_ACCESS', `${LOOKUP(2)}\n if r0 == 0 goto out\n r1 = *(u32 *)(r0 + 0)\n r0 += r1\n r0 = *(u8 *)(r0 + 0)\nout:\n r0 = 0\n exit`),
  ok('map value var offset bounded by branch', `${LOOKUP(2)}\n if r0 == 0 goto out\n r1 = *(u32 *)(r0 + 0)\n if r1 > 8 goto out\n r0 += r1\n r0 = *(u64 *)(r0 + 0)\nout:\n r0 = 0\n exit`),
  bad('map value signed bound only', 'NEGATIVE_MIN', `${LOOKUP(2)}\n if r0 == 0 goto out\n r1 = *(u64 *)(r0 + 0)\n if r1 s> 8 goto out\n if r1 s< -1000 goto out\n r0 += r1\n r0 = *(u64 *)(r0 + 0)\nout:\n r0 = 0\n exit`),
  bad('arith on map_value_or_null', 'PTR_ARITH_NULL', `${LOOKUP(1)}\n r0 += 1\n r0 = 0\n exit`),
  differs("root may read uninitialised stack in the kernel; tsbpf's checked mode faults on it, so the verifier rejects", bad('lookup with uninit key', 'UNINIT_STACK', `r2 = r10\n r2 += -4\n ld_pseudo r1, 1, 1\n call 1\n r0 = 0\n exit`)),
  bad('lookup key out of stack', 'STACK_OUT_OF_BOUNDS', `r2 = r10\n r2 += -2\n ld_pseudo r1, 1, 1\n call 1\n r0 = 0\n exit`),
  bad('lookup with scalar map', 'HELPER_ARG', `${KEY}\n r1 = 1\n call 1\n r0 = 0\n exit`),
  bad('unknown map fd', 'BAD_MAP_FD', `${KEY}\n ld_pseudo r1, 1, 99\n call 1\n r0 = 0\n exit`),
  ok('update', `${KEY}\n *(u64 *)(r10 - 16) = 1\n r3 = r10\n r3 += -16\n ld_pseudo r1, 1, 1\n r4 = 0\n call 2\n r0 = 0\n exit`),
  differs("root may read uninitialised stack in the kernel; tsbpf's checked mode faults on it, so the verifier rejects", bad('update value uninit', 'UNINIT_STACK', `${KEY}\n r3 = r10\n r3 += -16\n ld_pseudo r1, 1, 1\n r4 = 0\n call 2\n r0 = 0\n exit`)),
  bad('update flags uninit', 'UNINIT_REG', `${KEY}\n *(u64 *)(r10 - 16) = 1\n r3 = r10\n r3 += -16\n ld_pseudo r1, 1, 1\n call 2\n r0 = 0\n exit`),
  ok('delete', `${KEY}\n ld_pseudo r1, 1, 1\n call 3\n r0 = 0\n exit`),
  ok('key from map value', `${LOOKUP(2)}\n if r0 == 0 goto out\n r2 = r0\n ld_pseudo r1, 1, 1\n call 1\nout:\n r0 = 0\n exit`),
  ok('key from packet', `${PKT}\n r4 = r2\n r4 += 4\n if r4 > r3 goto out\n ld_pseudo r1, 1, 1\n call 1\nout:\n r0 = 0\n exit`),
  bad('key from unchecked packet', 'PKT_OUT_OF_BOUNDS', `${PKT}\n ld_pseudo r1, 1, 1\n call 1\n r0 = 0\n exit`),
  ok('percpu array', `${LOOKUP(8)}\n if r0 == 0 goto out\n r1 = 1\n lock *(u64 *)(r0 + 0) += r1\nout:\n r0 = 0\n exit`),
  bad('lookup on ringbuf', 'HELPER_MAP', `${LOOKUP(3)}\n r0 = 0\n exit`),
  bad('lookup on queue', 'HELPER_MAP', `${LOOKUP(5)}\n r0 = 0\n exit`),
  ok('queue push', '*(u64 *)(r10 - 8) = 1\n r2 = r10\n r2 += -8\n ld_pseudo r1, 1, 5\n r3 = 0\n call 87\n r0 = 0\n exit'),
  ok('queue pop into uninit stack', 'r2 = r10\n r2 += -8\n ld_pseudo r1, 1, 5\n call 88\n r0 = *(u64 *)(r10 - 8)\n exit'),
  bad('push on hash', 'HELPER_MAP', '*(u64 *)(r10 - 8) = 1\n r2 = r10\n r2 += -8\n ld_pseudo r1, 1, 1\n r3 = 0\n call 87\n r0 = 0\n exit'),
  ok('global data', 'ld_pseudo r1, 2, 6\n r0 = *(u64 *)(r1 + 56)\n exit'),
  bad('global data past end', 'MAP_VALUE_OUT_OF_BOUNDS', 'ld_pseudo r1, 2, 6\n r0 = *(u64 *)(r1 + 60)\n exit'),
  differs('the kernel reads struct bpf_map fields through BTF; tsbpf has no kernel map struct', bad('map pointer deref', 'INVALID_MEM_ACCESS', 'ld_pseudo r1, 1, 1\n r0 = *(u64 *)(r1 + 0)\n exit')),
  bad('map pointer arithmetic', 'PTR_ARITH', 'ld_pseudo r1, 1, 1\n r1 += 8\n r0 = 0\n exit'),
  ok('redirect_map', 'ld_pseudo r1, 1, 7\n r2 = 0\n r3 = 0\n call 51\n exit'),
  bad('redirect_map on hash', 'HELPER_MAP', 'ld_pseudo r1, 1, 1\n r2 = 0\n r3 = 0\n call 51\n exit'),
  bad('devmap with tail_call', 'HELPER_MAP', 'ld_pseudo r2, 1, 7\n r3 = 0\n call 12\n r0 = 0\n exit'),
  ok('tail_call', 'ld_pseudo r2, 1, 4\n r3 = 0\n call 12\n r0 = 0\n exit'),
  bad('tail_call modified ctx', 'MODIFIED_CTX', 'r1 += 4\n ld_pseudo r2, 1, 4\n r3 = 0\n call 12\n r0 = 0\n exit'),
  ok('map value pointer compare keeps type', `${LOOKUP(1)}\n if r0 == 0 goto out\n r1 = r0\n if r1 == r10 goto out\n r0 = *(u64 *)(r1 + 0)\nout:\n r0 = 0\n exit`),
];

const helpers: Case[] = [
  ok('ktime', 'call 5\n exit'),
  ok('prandom', 'call 7\n exit'),
  ok('smp id', 'call 8\n exit'),
  ok('boot ns', 'call 125\n exit'),
  bad('unknown helper', 'UNKNOWN_HELPER', 'call 100000\n r0 = 0\n exit'),
  bad('helper args clobbered', 'UNINIT_REG', 'r1 = 1\n call 5\n r0 = r1\n exit'),
  ok('trace_printk', '*(u64 *)(r10 - 8) = 0x0a6968\n r1 = r10\n r1 += -8\n r2 = 8\n call 6\n r0 = 0\n exit'),
  bad('trace_printk zero size', 'HELPER_SIZE', '*(u64 *)(r10 - 8) = 0\n r1 = r10\n r1 += -8\n r2 = 0\n call 6\n r0 = 0\n exit'),
  bad('trace_printk unbounded size', 'HELPER_SIZE', '*(u64 *)(r10 - 8) = 0\n r1 = r10\n r1 += -8\n call 7\n r2 = r0\n r1 = r10\n r1 += -8\n call 6\n r0 = 0\n exit'),
  differs("root may read uninitialised stack in the kernel; tsbpf's checked mode faults on it, so the verifier rejects", bad('trace_printk size beyond init', 'UNINIT_STACK', '*(u64 *)(r10 - 8) = 0\n r1 = r10\n r1 += -16\n r2 = 16\n call 6\n r0 = 0\n exit')),
  ok('trace_printk bounded var size', '*(u64 *)(r10 - 8) = 0\n call 7\n r2 = r0\n r2 &= 7\n r2 += 1\n r1 = r10\n r1 += -8\n call 6\n r0 = 0\n exit'),
  bad('trace_printk scalar buffer', 'HELPER_ARG', 'r1 = 0\n r2 = 8\n call 6\n r0 = 0\n exit'),
  ok('csum_diff with nulls', 'r1 = 0\n r2 = 0\n r3 = 0\n r4 = 0\n r5 = 0\n call 28\n exit'),
  ok('csum_diff on stack', '*(u64 *)(r10 - 8) = 0\n r1 = r10\n r1 += -8\n r2 = 8\n r3 = 0\n r4 = 0\n r5 = 0\n call 28\n exit'),
  ok('redirect', 'r1 = 1\n r2 = 0\n call 23\n exit'),
  bad('redirect in socket filter', 'HELPER_NOT_ALLOWED', 'r1 = 1\n r2 = 0\n call 23\n exit', 'socket_filter'),
  bad('xdp_adjust_head in tc', 'HELPER_NOT_ALLOWED', 'r2 = 0\n call 44\n r0 = 0\n exit', 'sched_cls'),
  bad('xdp_adjust_tail scalar ctx', 'HELPER_ARG', 'r1 = 0\n r2 = 0\n call 65\n r0 = 0\n exit'),
  ok('xdp_adjust_meta', 'r2 = -4\n call 54\n r0 = 0\n exit'),
  ok('probe_read_kernel into stack', 'r1 = r10\n r1 += -16\n r2 = 16\n r3 = 0\n call 113\n r0 = *(u64 *)(r10 - 16)\n exit'),
  bad('probe_read_kernel past stack', 'STACK_OUT_OF_BOUNDS', 'r1 = r10\n r1 += -8\n r2 = 16\n r3 = 0\n call 113\n r0 = 0\n exit'),
  ok('get_current_pid_tgid', 'call 14\n exit'),
  differs('the kernel needs BTF func_info for callbacks (not a safety rule)', ok('bpf_loop', 'r1 = 4\n ld_pseudo r2, 4, 6\n r3 = 0\n r4 = 0\n call 181\n r0 = 0\n exit\n r0 = 0\n exit')),
  bad('bpf_loop callback returns 2', 'CALLBACK_RET', 'r1 = 4\n ld_pseudo r2, 4, 6\n r3 = 0\n r4 = 0\n call 181\n r0 = 0\n exit\n r0 = 2\n exit'),
  bad('bpf_loop callback scalar', 'HELPER_ARG', 'r1 = 4\n r2 = 0\n r3 = 0\n r4 = 0\n call 181\n r0 = 0\n exit'),
  differs('the kernel needs BTF func_info for callbacks (not a safety rule)', ok('bpf_loop ctx on stack', '*(u64 *)(r10 - 8) = 0\n r1 = 4\n ld_pseudo r2, 4, 7\n r3 = r10\n r3 += -8\n r4 = 0\n call 181\n r0 = *(u64 *)(r10 - 8)\n exit\n r0 = *(u64 *)(r2 + 0)\n r0 &= 1\n exit')),
  bad('bpf_loop callback reads uninit r3', 'UNINIT_REG', 'r1 = 4\n ld_pseudo r2, 4, 6\n r3 = 0\n r4 = 0\n call 181\n r0 = 0\n exit\n r0 = r3\n exit'),
  differs('the kernel needs BTF func_info for callbacks (not a safety rule)', ok('for_each_map_elem', 'ld_pseudo r1, 1, 2\n ld_pseudo r2, 4, 6\n r3 = 0\n r4 = 0\n call 164\n r0 = 0\n exit\n r0 = *(u64 *)(r3 + 8)\n r0 = 0\n exit')),
  bad('for_each value out of bounds', 'MAP_VALUE_OUT_OF_BOUNDS', 'ld_pseudo r1, 1, 2\n ld_pseudo r2, 4, 6\n r3 = 0\n r4 = 0\n call 164\n r0 = 0\n exit\n r0 = *(u64 *)(r3 + 16)\n r0 = 0\n exit'),
  ok('ringbuf reserve submit', `ld_pseudo r1, 1, 3\n r2 = 8\n r3 = 0\n call 131\n if r0 == 0 goto out\n *(u64 *)(r0 + 0) = 1\n r1 = r0\n r2 = 0\n call 132\nout:\n r0 = 0\n exit`),
  ok('ringbuf reserve discard', `ld_pseudo r1, 1, 3\n r2 = 8\n r3 = 0\n call 131\n if r0 == 0 goto out\n r1 = r0\n r2 = 0\n call 133\nout:\n r0 = 0\n exit`),
  bad('ringbuf leak', 'UNRELEASED_REFERENCE', `ld_pseudo r1, 1, 3\n r2 = 8\n r3 = 0\n call 131\n if r0 == 0 goto out\n *(u64 *)(r0 + 0) = 1\nout:\n r0 = 0\n exit`),
  bad('ringbuf leak on one path', 'UNRELEASED_REFERENCE', `ld_pseudo r1, 1, 3\n r2 = 8\n r3 = 0\n call 131\n if r0 == 0 goto out\n r6 = r0\n call 7\n if r0 == 0 goto out\n r1 = r6\n r2 = 0\n call 132\nout:\n r0 = 0\n exit`),
  bad('ringbuf no null check', 'NULL_POINTER', `ld_pseudo r1, 1, 3\n r2 = 8\n r3 = 0\n call 131\n *(u64 *)(r0 + 0) = 1\n r1 = r0\n r2 = 0\n call 132\n r0 = 0\n exit`),
  bad('ringbuf record overflow', 'MEM_OUT_OF_BOUNDS', `ld_pseudo r1, 1, 3\n r2 = 8\n r3 = 0\n call 131\n if r0 == 0 goto out\n *(u64 *)(r0 + 4) = 1\n r1 = r0\n r2 = 0\n call 132\nout:\n r0 = 0\n exit`),
  bad('ringbuf use after submit', 'INVALID_MEM_ACCESS', `ld_pseudo r1, 1, 3\n r2 = 8\n r3 = 0\n call 131\n if r0 == 0 goto out\n r6 = r0\n r1 = r0\n r2 = 0\n call 132\n *(u64 *)(r6 + 0) = 1\nout:\n r0 = 0\n exit`),
  bad('ringbuf double submit', 'HELPER_ARG', `ld_pseudo r1, 1, 3\n r2 = 8\n r3 = 0\n call 131\n if r0 == 0 goto out\n r6 = r0\n r1 = r0\n r2 = 0\n call 132\n r1 = r6\n r2 = 0\n call 132\nout:\n r0 = 0\n exit`),
  bad('ringbuf submit offset pointer', 'RELEASE_INVALID', `ld_pseudo r1, 1, 3\n r2 = 8\n r3 = 0\n call 131\n if r0 == 0 goto out\n r6 = r0\n r1 = r0\n r1 += 4\n r2 = 0\n call 132\n r1 = r6\n r2 = 0\n call 133\nout:\n r0 = 0\n exit`),
  bad('ringbuf reserve var size', 'HELPER_SIZE', `call 7\n r2 = r0\n r2 &= 8\n ld_pseudo r1, 1, 3\n r3 = 0\n call 131\n r0 = 0\n exit`),
  ok('ringbuf output', '*(u64 *)(r10 - 8) = 1\n ld_pseudo r1, 1, 3\n r2 = r10\n r2 += -8\n r3 = 8\n r4 = 0\n call 130\n exit'),
  ok('ringbuf query', 'ld_pseudo r1, 1, 3\n r2 = 0\n call 134\n exit'),
  bad('submit non-ringbuf', 'HELPER_ARG', `${KEY}\n r1 = r2\n r2 = 0\n call 132\n r0 = 0\n exit`),
  differs('the kernel finds bpf_spin_lock through the BTF of the map, which the differential test cannot create', ok('spin lock and unlock', `${LOOKUP(9)}\n if r0 == 0 goto out\n r6 = r0\n r1 = r0\n call 93\n *(u64 *)(r6 + 8) = 1\n r1 = r6\n call 94\nout:\n r0 = 0\n exit`)),
  bad('spin lock never unlocked', 'LOCK', `${LOOKUP(9)}\n if r0 == 0 goto out\n r6 = r0\n r1 = r0\n call 93\n *(u64 *)(r6 + 8) = 1\nout:\n r0 = 0\n exit`),
  bad('helper call while locked', 'LOCK', `${LOOKUP(9)}\n if r0 == 0 goto out\n r6 = r0\n r1 = r0\n call 93\n call 5\n r1 = r6\n call 94\nout:\n r0 = 0\n exit`),
  bad('bpf-to-bpf call while locked', 'LOCK', `${LOOKUP(9)}\n if r0 == 0 goto out\n r6 = r0\n r1 = r0\n call 93\n call fn\n r1 = r6\n call 94\nout:\n r0 = 0\n exit\nfn:\n r0 = 0\n exit`),
  bad('unlock without lock', 'LOCK', `${LOOKUP(9)}\n if r0 == 0 goto out\n r1 = r0\n call 94\nout:\n r0 = 0\n exit`),
  bad('lock at wrong offset', 'LOCK', `${LOOKUP(9)}\n if r0 == 0 goto out\n r1 = r0\n r1 += 8\n call 93\nout:\n r0 = 0\n exit`),
  bad('spin lock without BTF', 'LOCK', `${LOOKUP(2)}\n if r0 == 0 goto out\n r1 = r0\n call 93\nout:\n r0 = 0\n exit`),
];

const scalars: Case[] = [
  ok('and bounds index', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n r0 &= 15\n r6 += r0\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  bad('and bounds index too wide', 'MAP_VALUE_OUT_OF_BOUNDS', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n r0 &= 16\n r6 += r0\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  ok('rsh bounds index', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n r0 >>= 60\n r6 += r0\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  bad('mod does not bound', 'PTR_OUT_OF_RANGE', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n r0 %= 16\n r6 += r0\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  ok('jmp32 bounds index', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n w0 = w0\n if w0 > 15 goto out\n r6 += r0\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  bad('jmp32 bounds only low half', 'UNBOUNDED_MEM_ACCESS', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n if w0 > 15 goto out\n if r0 s< 0 goto out\n r6 += r0\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  ok('linked copies bounded together', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n r1 = r0\n if r0 > 15 goto out\n r6 += r1\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  ok('signed range check', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n if r0 s> 15 goto out\n if r0 s< 0 goto out\n r6 += r0\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  ok('dead branch not explored', 'r1 = 5\n if r1 > 10 goto +2\n r0 = 0\n exit\n r0 = *(u64 *)(r1 + 0)\n exit'),
  ok('jset dead branch', 'r1 = 4\n if r1 & 3 goto +2\n r0 = 0\n exit\n r0 = *(u64 *)(r1 + 0)\n exit'),
  bad('jset live branch', 'INVALID_MEM_ACCESS', 'call 7\n if r0 & 3 goto +2\n r0 = 0\n exit\n r0 = *(u64 *)(r0 + 0)\n exit'),
  ok('mul bounds', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n r0 &= 3\n r0 *= 4\n r6 += r0\n r0 = *(u32 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  bad('mul bounds too big', 'MAP_VALUE_OUT_OF_BOUNDS', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n r0 &= 3\n r0 *= 5\n r6 += r0\n r0 = *(u32 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  ok('sign extension idiom', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n r0 &= 7\n r0 <<= 32\n r0 s>>= 32\n r6 += r0\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  ok('narrow load bounds', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n r1 = *(u8 *)(r0 + 0)\n r1 >>= 4\n r6 += r1\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  bad('sign-extending load negative', 'NEGATIVE_MIN', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n r1 = *(s8 *)(r0 + 0)\n r6 += r1\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  ok('jne excludes value', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n if r0 > 16 goto out\n if r0 == 16 goto out\n r6 += r0\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  bad('unsigned check misses value', 'MAP_VALUE_OUT_OF_BOUNDS', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n if r0 > 16 goto out\n r6 += r0\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  ok('32-bit alu zero-extends', `${LOOKUP(2)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n w0 &= 15\n r6 += r0\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  ok('le16 truncates', `${LOOKUP(6)}\n if r0 == 0 goto out\n r6 = r0\n call 7\n r0 = le16 r0\n r0 >>= 10\n r6 += r0\n r0 = *(u8 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
];

const raw: Case[] = [
  ok('raw read after length check', 'r3 = r1\n r3 += r2\n r4 = r1\n r4 += 4\n if r4 > r3 goto +1\n r0 = *(u32 *)(r1 + 0)\n r0 = 0\n exit', 'raw'),
  bad('raw unchecked read', 'PKT_OUT_OF_BOUNDS', 'r0 = *(u8 *)(r1 + 0)\n exit', 'raw'),
  ok('raw ld_abs', 'r0 = *(u8 *)skb[0]\n exit', 'raw'),
  { ...ok('raw fixed-size data', 'r0 = *(u64 *)(r1 + 56)\n r0 = r2\n exit', 'raw'), dataSize: 64 },
  { ...bad('raw fixed-size data overflow', 'MEM_OUT_OF_BOUNDS', 'r0 = *(u64 *)(r1 + 60)\n exit', 'raw'), dataSize: 64 },
  bad('raw length is not a pointer', 'INVALID_MEM_ACCESS', 'r0 = *(u8 *)(r2 + 0)\n exit', 'raw'),
  bad('raw length changed is not the end', 'PKT_OUT_OF_BOUNDS', 'r2 += 1\n r3 = r1\n r3 += r2\n r4 = r1\n r4 += 4\n if r4 > r3 goto +1\n r0 = *(u32 *)(r1 + 0)\n r0 = 0\n exit', 'raw'),
];

/** FUNC_INFO and LOCK_BTF are the kernel's metadata-only refusals (not about safety). */
const FUNC_INFO = 'the kernel needs BTF func_info for callbacks (not a safety rule)';
const LOCK_BTF = 'the kernel finds bpf_spin_lock through the BTF of the map, which the differential test cannot create';
const NO_LOCK = 'the kernel map has no BTF, so no bpf_spin_lock it would protect (with the BTF it refuses these too)';
const SUBPROG_BTF = 'the kernel allows tail calls in subprograms only with BTF func_info (not a safety rule)';
/** count is the number of instruction slots of assembly without labels (lddw counts twice). */
const slots = (asm: string): number => asm.split('\n').map((l) => l.trim()).filter((l) => l && !l.endsWith(':'))
  .reduce((n, l) => n + (/ld_pseudo| ll$/.test(l) ? 2 : 1), 0);
/** LOOP calls bpf_loop(4, cb, fp-8, 0) with fp-8 zeroed; `after` runs after the call, then the callback `cb`. */
const LOOP = (after: string, cb: string): string =>
  `*(u64 *)(r10 - 8) = 0\n r1 = 4\n ld_pseudo r2, 4, ${5 + slots(after)}\n r3 = r10\n r3 += -8\n r4 = 0\n call 181\n ${after}\n${cb}`;
/** EACH calls bpf_for_each_map_elem(map 2, cb, 0, 0); `after` runs after the call, then the callback `cb`. */
const EACH = (after: string, cb: string): string =>
  `ld_pseudo r1, 1, 2\n ld_pseudo r2, 4, ${4 + slots(after)}\n r3 = 0\n r4 = 0\n call 164\n ${after}\n${cb}`;
const RET = 'r0 = 0\n exit';
/** RESERVE reserves an 8-byte ring-buffer record (r0, may be NULL). */
const RESERVE = 'ld_pseudo r1, 1, 3\n r2 = 8\n r3 = 0\n call 131';
/** LOOKUP2 looks up constant key 0 of the array map 2 into r6 (never NULL) and puts an unknown scalar in r0. */
const LOOKUP2 = `${LOOKUP(2)}\n r6 = r0\n call 7`;
/** INDEX adds r0 to the map value pointer r6 and reads a byte there. */
const INDEX = 'r6 += r0\n r0 = *(u8 *)(r6 + 0)\n r0 = 0\n exit';
/** LOOKUP9 looks up key `k` of the spin-lock map 9 and jumps to `out` when it is NULL. */
const LOOKUP9 = (k: number, slot: number): string =>
  `*(u32 *)(r10 - ${slot}) = ${k}\n r2 = r10\n r2 += -${slot}\n ld_pseudo r1, 1, 9\n call 1\n if r0 == 0 goto out`;

const callbacks: Case[] = [
  bad('bpf_loop callback derefs its index', 'INVALID_MEM_ACCESS', LOOP(RET, 'r0 = *(u64 *)(r1 + 0)\n exit')),
  bad('bpf_loop callback returns an unknown value', 'CALLBACK_RET', LOOP(RET, 'call 7\n exit')),
  bad('bpf_loop callback returns a pointer', 'CALLBACK_RET', LOOP(RET, 'r0 = r10\n exit')),
  differs(FUNC_INFO, ok('bpf_loop callback returns a bit of its index', LOOP(RET, 'r0 = r1\n r0 &= 1\n exit'))),
  bad('bpf_loop callback writes past its ctx', 'STACK_OUT_OF_BOUNDS', LOOP(RET, '*(u64 *)(r2 + 8) = 0\n r0 = 0\n exit')),
  bad('bpf_loop ctx is a non-zero scalar', 'HELPER_ARG', 'r1 = 4\n ld_pseudo r2, 4, 6\n r3 = 5\n r4 = 0\n call 181\n r0 = 0\n exit\n r0 = 0\n exit'),
  bad('bpf_loop flags uninit', 'UNINIT_REG', 'r1 = 4\n ld_pseudo r2, 4, 5\n r3 = 0\n call 181\n r0 = 0\n exit\n r0 = 0\n exit'),
  bad('bpf_loop counter in ctx grows past a bound', 'MAP_VALUE_OUT_OF_BOUNDS', LOOP(
    `r6 = *(u64 *)(r10 - 8)\n ${LOOKUP(2)}\n r0 += r6\n r0 = *(u8 *)(r0 + 14)\n r0 = 0\n exit`,
    'r0 = *(u64 *)(r2 + 0)\n r0 += 1\n *(u64 *)(r2 + 0) = r0\n r0 = 0\n exit')),
  bad('callback leaks a ringbuf record', 'UNRELEASED_REFERENCE', LOOP(RET, `${RESERVE}\n r0 = 0\n exit`)),
  bad('callback stack counts in the chain', 'STACK_TOO_LARGE', `*(u64 *)(r10 - 256) = 0\n ${LOOP(RET, '*(u64 *)(r10 - 264) = 0\n r0 = 0\n exit')}`),
  bad('for_each callback writes the key', 'INVALID_MEM_ACCESS', EACH(RET, '*(u32 *)(r2 + 0) = 1\n r0 = 0\n exit')),
  bad('for_each key read past key_size', 'MAP_VALUE_OUT_OF_BOUNDS', EACH(RET, 'r0 = *(u64 *)(r2 + 0)\n r0 = 0\n exit')),
  differs(FUNC_INFO, ok('for_each callback writes the value', EACH(RET, 'r1 = *(u32 *)(r2 + 0)\n *(u64 *)(r3 + 8) = r1\n r0 = 0\n exit'))),
  bad('for_each on a ringbuf', 'HELPER_MAP', 'ld_pseudo r1, 1, 3\n ld_pseudo r2, 4, 6\n r3 = 0\n r4 = 0\n call 164\n r0 = 0\n exit\n r0 = 0\n exit'),
  bad('for_each callback reads r5', 'UNINIT_REG', EACH(RET, 'r0 = r5\n exit')),
];

const refs: Case[] = [
  ok('ringbuf submit or discard on branches', `${RESERVE}\n if r0 == 0 goto out\n r6 = r0\n call 7\n r1 = r6\n r2 = 0\n if r0 == 0 goto disc\n call 132\n goto out\ndisc:\n call 133\nout:\n r0 = 0\n exit`),
  bad('ringbuf second record leaked', 'UNRELEASED_REFERENCE', `${RESERVE}\n r6 = r0\n ${RESERVE}\n r7 = r0\n if r6 == 0 goto a\n r1 = r6\n r2 = 0\n call 132\na:\n if r7 == 0 goto out\n r0 = 0\n exit\nout:\n r0 = 0\n exit`),
  bad('ringbuf discard after submit', 'HELPER_ARG', `${RESERVE}\n if r0 == 0 goto out\n r6 = r0\n r1 = r0\n r2 = 0\n call 132\n r1 = r6\n r2 = 0\n call 133\nout:\n r0 = 0\n exit`),
  bad('ringbuf use after submit through a spilled copy', 'INVALID_MEM_ACCESS', `${RESERVE}\n if r0 == 0 goto out\n *(u64 *)(r10 - 8) = r0\n r1 = r0\n r2 = 0\n call 132\n r1 = *(u64 *)(r10 - 8)\n *(u64 *)(r1 + 0) = 1\nout:\n r0 = 0\n exit`),
  ok('ringbuf record spilled and filled before submit', `${RESERVE}\n if r0 == 0 goto out\n *(u64 *)(r10 - 8) = r0\n r1 = *(u64 *)(r10 - 8)\n r2 = 0\n call 132\nout:\n r0 = 0\n exit`),
  bad('ringbuf submit of an unchecked record', 'HELPER_ARG', `${RESERVE}\n r1 = r0\n r2 = 0\n call 132\n r0 = 0\n exit`),
  bad('ringbuf zero-size record write', 'MEM_OUT_OF_BOUNDS', `ld_pseudo r1, 1, 3\n r2 = 0\n r3 = 0\n call 131\n if r0 == 0 goto out\n *(u8 *)(r0 + 0) = 1\n r1 = r0\n r2 = 0\n call 133\nout:\n r0 = 0\n exit`),
  ok('subprogram reserves, caller submits', `call fn\n if r0 == 0 goto out\n r1 = r0\n r2 = 0\n call 132\nout:\n r0 = 0\n exit\nfn:\n ${RESERVE}\n exit`),
  bad('subprogram record leaked by the caller', 'UNRELEASED_REFERENCE', `call fn\n r0 = 0\n exit\nfn:\n ${RESERVE}\n exit`),
  bad('arith on ringbuf_mem_or_null', 'PTR_ARITH_NULL', `${RESERVE}\n r0 += 8\n r0 = 0\n exit`),
  differs(LOCK_BTF, ok('spin lock released on every path', `${LOOKUP(9)}\n if r0 == 0 goto out\n r6 = r0\n r1 = r0\n call 93\n r1 = *(u64 *)(r6 + 8)\n if r1 == 0 goto un\n *(u64 *)(r6 + 8) = 0\nun:\n r1 = r6\n call 94\nout:\n r0 = 0\n exit`)),
  bad('spin lock held on one path', 'LOCK', `${LOOKUP(9)}\n if r0 == 0 goto out\n r6 = r0\n r1 = r0\n call 93\n r1 = *(u64 *)(r6 + 8)\n if r1 == 0 goto out\n r1 = r6\n call 94\nout:\n r0 = 0\n exit`),
  bad('spin unlock of another element', 'LOCK', `${LOOKUP9(0, 4)}\n r6 = r0\n ${LOOKUP9(1, 8)}\n r7 = r0\n r1 = r6\n call 93\n r1 = r7\n call 94\nout:\n r0 = 0\n exit`),
  bad('two spin locks', 'LOCK', `${LOOKUP9(0, 4)}\n r6 = r0\n ${LOOKUP9(1, 8)}\n r7 = r0\n r1 = r6\n call 93\n r1 = r7\n call 93\nout:\n r0 = 0\n exit`),
  differs(NO_LOCK, bad('load of the spin lock word', 'LOCK', `${LOOKUP(9)}\n if r0 == 0 goto out\n r0 = *(u32 *)(r0 + 0)\nout:\n r0 = 0\n exit`)),
  differs(NO_LOCK, bad('store over the spin lock word', 'LOCK', `${LOOKUP(9)}\n if r0 == 0 goto out\n *(u32 *)(r0 + 0) = 0\nout:\n r0 = 0\n exit`)),
  differs(NO_LOCK, bad('helper reads the spin lock word', 'LOCK', `${LOOKUP(9)}\n if r0 == 0 goto out\n r3 = r0\n ${KEY}\n ld_pseudo r1, 1, 1\n r4 = 0\n call 2\nout:\n r0 = 0\n exit`)),
  bad('ld_abs under spin lock', 'LOCK', `r6 = r1\n ${LOOKUP(9)}\n if r0 == 0 goto out\n r7 = r0\n r1 = r0\n call 93\n r0 = *(u8 *)skb[0]\n r1 = r7\n call 94\nout:\n r0 = 0\n exit`, 'socket_filter'),
];

const bounds: Case[] = [
  bad('nullable pointer as the added operand', 'PTR_ARITH_NULL', `${LOOKUP(1)}\n r1 = 8\n r1 += r0\n r0 = 0\n exit`),
  ok('arith after null check', `${LOOKUP(1)}\n if r0 == 0 goto out\n r0 += 4\n r0 = *(u32 *)(r0 + 0)\nout:\n r0 = 0\n exit`),
  ok('equal to a non-null pointer is not null', `${LOOKUP(1)}\n r6 = r0\n ld_pseudo r1, 2, 6\n if r6 != r1 goto out\n r0 = *(u64 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  bad('unequal to a non-null pointer may be null', 'NULL_POINTER', `${LOOKUP(1)}\n r6 = r0\n ld_pseudo r1, 2, 6\n if r6 == r1 goto out\n r0 = *(u64 *)(r6 + 0)\nout:\n r0 = 0\n exit`),
  bad('jmp32 is no null check', 'NULL_POINTER', `${LOOKUP(1)}\n if w0 == 0 goto out\n r0 = *(u64 *)(r0 + 0)\nout:\n r0 = 0\n exit`),
  bad('compare with 1 is no null check', 'NULL_POINTER', `${LOOKUP(1)}\n if r0 == 1 goto out\n r0 = *(u64 *)(r0 + 0)\nout:\n r0 = 0\n exit`),
  bad('data_meta checked against data_end', 'PKT_OUT_OF_BOUNDS', 'r2 = *(u32 *)(r1 + 8)\n r3 = *(u32 *)(r1 + 4)\n r4 = r2\n r4 += 4\n if r4 > r3 goto +1\n r0 = *(u32 *)(r2 + 0)\n r0 = 0\n exit'),
  bad('data_meta read past its checked range', 'PKT_OUT_OF_BOUNDS', 'r2 = *(u32 *)(r1 + 8)\n r3 = *(u32 *)(r1 + 0)\n r4 = r2\n r4 += 4\n if r4 > r3 goto +1\n r0 = *(u32 *)(r2 + 2)\n r0 = 0\n exit'),
  bad('w add wraps to a huge offset', 'PTR_OUT_OF_RANGE', `${LOOKUP2}\n r0 &= 15\n w0 += -16\n ${INDEX}`),
  ok('w add wraps back into range', `${LOOKUP2}\n r0 &= 15\n r0 += 16\n w0 += -16\n ${INDEX}`),
  ok('w mov truncates a 64-bit constant', `${LOOKUP(2)}\n r6 = r0\n r1 = 0x100000008 ll\n w1 = w1\n r6 += r1\n r0 = *(u64 *)(r6 + 0)\n r0 = 0\n exit`),
  bad('64-bit constant offset too large', 'PTR_OUT_OF_RANGE', `${LOOKUP(2)}\n r6 = r0\n r1 = 0x100000008 ll\n r6 += r1\n r0 = *(u64 *)(r6 + 0)\n r0 = 0\n exit`),
  ok('alu32 result has a zero upper half', 'r1 = -1\n w1 += 0\n r1 >>= 32\n if r1 != 0 goto +2\n r0 = 0\n exit\n r0 = *(u64 *)(r1 + 0)\n exit'),
  bad('signed upper bound only', 'PTR_OUT_OF_RANGE', `${LOOKUP2}\n if r0 s> 15 goto +3\n ${INDEX}`),
  ok('jsge and jsle bound an index', `${LOOKUP2}\n if r0 s>= 16 goto out\n if r0 s<= -1 goto out\n ${INDEX}\nout:\n r0 = 0\n exit`),
  ok('jlt bounds an index', `${LOOKUP2}\n if r0 < 16 goto +2\n r0 = 0\n exit\n ${INDEX}`),
  ok('jset false branch clears the high bits', `${LOOKUP2}\n if r0 & -16 goto out\n ${INDEX}\nout:\n r0 = 0\n exit`),
  bad('jset true branch bounds nothing', 'PTR_OUT_OF_RANGE', `${LOOKUP2}\n if r0 & 1 goto +2\n r0 = 0\n exit\n ${INDEX}`),
  ok('jmp32 signed bounds then zero-extension', `${LOOKUP2}\n if w0 s> 15 goto out\n if w0 s< 0 goto out\n w0 = w0\n ${INDEX}\nout:\n r0 = 0\n exit`),
  ok('jmp32 ignores the upper half', 'r1 = 0x100000000 ll\n if w1 != 0 goto +2\n r0 = 0\n exit\n r0 = *(u64 *)(r1 + 0)\n exit'),
  bad('jmp64 sees the upper half', 'INVALID_MEM_ACCESS', 'r1 = 0x100000000 ll\n if r1 != 0 goto +2\n r0 = 0\n exit\n r0 = *(u64 *)(r1 + 0)\n exit'),
  bad('w mod by register is unknown in all 64 bits', 'PTR_OUT_OF_RANGE', `${LOOKUP2}\n r7 = r0\n call 7\n w0 %= w7\n ${INDEX}`),
  bad('w div loses the upper half like the kernel', 'INVALID_MEM_ACCESS', 'call 7\n w0 /= 3\n r0 >>= 32\n if r0 == 0 goto +2\n r0 = *(u64 *)(r0 + 0)\n exit\n r0 = 0\n exit'),
  bad('div of constants is not folded', 'INVALID_MEM_ACCESS', 'r1 = 10\n r1 /= 2\n if r1 == 5 goto +2\n r0 = *(u64 *)(r1 + 0)\n exit\n r0 = 0\n exit'),
  ok('sdiv of S64_MIN by -1', 'r0 = 0x8000000000000000 ll\n r0 s/= -1\n exit'),
  bad('signed mod by zero imm', 'DIV_BY_ZERO', 'r0 = 1\n r0 s%= 0\n exit'),
  bad('w div by zero imm', 'DIV_BY_ZERO', 'w0 = 1\n w0 /= 0\n exit'),
  bad('movsx byte gives a negative offset', 'MAP_VALUE_OUT_OF_BOUNDS', `${LOOKUP(2)}\n r1 = 0xff\n r1 = (s8)r1\n r0 += r1\n r0 = *(u8 *)(r0 + 0)\n exit`),
  ok('movsx of a small value', `${LOOKUP(6)}\n r1 = 0x13f\n r1 = (s8)r1\n r0 += r1\n r0 = *(u8 *)(r0 + 0)\n exit`),
  bad('w movsx16 zero-extends a negative', 'PTR_OUT_OF_RANGE', `${LOOKUP(2)}\n r1 = 0x18000\n w1 = (s16)w1\n r0 += r1\n r0 = *(u8 *)(r0 + 0)\n exit`),
  bad('sign-extending fill of a spilled byte', 'MAP_VALUE_OUT_OF_BOUNDS', `${LOOKUP(2)}\n r1 = 0xff\n *(u64 *)(r10 - 16) = r1\n r1 = *(s8 *)(r10 - 16)\n r0 += r1\n r0 = *(u8 *)(r0 + 0)\n exit`),
  ok('sign-extending load bounded by checks', `${LOOKUP(2)}\n r1 = *(s8 *)(r0 + 0)\n if r1 s< 0 goto out\n if r1 s> 15 goto out\n r0 += r1\n r0 = *(u8 *)(r0 + 0)\nout:\n r0 = 0\n exit`),
  ok('sign-extending ctx load', 'r0 = *(s32 *)(r1 + 12)\n exit'),
];

const memory: Case[] = [
  bad('atomic add on xdp ctx', 'INVALID_ATOMIC', 'r2 = 1\n lock *(u32 *)(r1 + 12) += r2\n r0 = 0\n exit'),
  bad('atomic add on tc ctx', 'INVALID_ATOMIC', 'r2 = 1\n lock *(u32 *)(r1 + 8) += r2\n r0 = 0\n exit', 'sched_cls'),
  bad('cmpxchg on ctx', 'INVALID_ATOMIC', 'r0 = 0\n r2 = 1\n r0 = cmpxchg_64(r1 + 0, r0, r2)\n exit'),
  bad('atomic on packet', 'INVALID_ATOMIC', `${PKT}\n r4 = r2\n r4 += 8\n if r4 > r3 goto +2\n r5 = 1\n lock *(u64 *)(r2 + 0) += r5\n r0 = 0\n exit`),
  ok('xchg on a map value', `${LOOKUP(1)}\n if r0 == 0 goto out\n r1 = 5\n r1 = xchg_64(r0 + 0, r1)\nout:\n r0 = 0\n exit`),
  bad('atomic past the map value', 'MAP_VALUE_OUT_OF_BOUNDS', `${LOOKUP(1)}\n if r0 == 0 goto out\n r1 = 1\n lock *(u32 *)(r0 + 8) += r1\nout:\n r0 = 0\n exit`),
  bad('misaligned atomic on a map value', 'INVALID_ATOMIC', `${LOOKUP(1)}\n if r0 == 0 goto out\n r1 = 1\n lock *(u32 *)(r0 + 2) += r1\nout:\n r0 = 0\n exit`),
  bad('atomic through a scalar', 'INVALID_MEM_ACCESS', 'r1 = 0\n r2 = 1\n lock *(u64 *)(r1 + 0) += r2\n r0 = 0\n exit'),
  bad('atomic of byte size', 'INVALID_INSN', '*(u64 *)(r10 - 8) = 0\n .byte 0xd3, 0x1a, 0xf8, 0xff, 0, 0, 0, 0\n r0 = 0\n exit'),
  ok('atomic and/or/xor on stack', '*(u64 *)(r10 - 8) = 7\n r1 = 3\n lock *(u64 *)(r10 - 8) &= r1\n lock *(u64 *)(r10 - 8) |= r1\n lock *(u64 *)(r10 - 8) ^= r1\n r0 = *(u64 *)(r10 - 8)\n exit'),
  ok('32-bit spill of a constant fills back', `${LOOKUP(2)}\n r1 = 8\n *(u32 *)(r10 - 16) = r1\n r2 = *(u32 *)(r10 - 16)\n r0 += r2\n r0 = *(u64 *)(r0 + 0)\n exit`),
  bad('32-bit spill of a constant keeps its value', 'MAP_VALUE_OUT_OF_BOUNDS', `${LOOKUP(2)}\n r1 = 9\n *(u32 *)(r10 - 16) = r1\n r2 = *(u32 *)(r10 - 16)\n r0 += r2\n r0 = *(u64 *)(r0 + 0)\n exit`),
  ok('low half of a spilled constant', `${LOOKUP(2)}\n r1 = 8\n *(u64 *)(r10 - 16) = r1\n r2 = *(u32 *)(r10 - 16)\n r0 += r2\n r0 = *(u64 *)(r0 + 0)\n exit`),
  ...[
    ['a variable-offset byte store', 'call 7\n r0 &= 7\n r2 = r10\n r2 += -16\n r2 += r0\n r1 = 255\n *(u8 *)(r2 + 0) = r1'],
    ['a helper write', 'r1 = r10\n r1 += -16\n r2 = 8\n r3 = 0\n call 113'],
    ['an atomic add', 'call 7\n lock *(u64 *)(r10 - 16) += r0'],
    ['a 32-bit store of its high half', 'call 7\n *(u32 *)(r10 - 12) = r0'],
    ['a 32-bit store of its low half', 'call 7\n *(u32 *)(r10 - 16) = r0'],
  ].map(([how, asm]) => bad(`spilled constant overwritten by ${how} is unknown`, 'PTR_OUT_OF_RANGE',
    `${LOOKUP(2)}\n r6 = r0\n r1 = 4\n *(u64 *)(r10 - 16) = r1\n ${asm}\n r3 = *(u64 *)(r10 - 16)\n r6 += r3\n r0 = *(u8 *)(r6 + 0)\n r0 = 0\n exit`)),
  ok('spilled pointer kept by a store next to it', '*(u64 *)(r10 - 8) = r1\n *(u8 *)(r10 - 9) = 0\n r2 = *(u64 *)(r10 - 8)\n r0 = *(u32 *)(r2 + 12)\n exit'),
  ok('32-bit pointer store into a map value', `r6 = r1\n ${LOOKUP(1)}\n if r0 == 0 goto out\n *(u32 *)(r0 + 0) = r6\nout:\n r0 = 0\n exit`),
  ok('pointer stored into a ringbuf record', `${RESERVE}\n if r0 == 0 goto out\n *(u64 *)(r0 + 0) = r10\n r1 = r0\n r2 = 0\n call 132\nout:\n r0 = 0\n exit`),
  ok('pointer stored into the packet', `${PKT}\n r4 = r2\n r4 += 8\n if r4 > r3 goto +1\n *(u64 *)(r2 + 0) = r10\n r0 = 0\n exit`),
  ok('pointer stored into skb cb', '*(u64 *)(r1 + 48) = r1\n r0 = 0\n exit', 'sched_cls'),
  bad('lookup key is the ctx', 'HELPER_ARG', 'r2 = r1\n ld_pseudo r1, 1, 1\n call 1\n r0 = 0\n exit'),
  bad('lookup key in a too-small ringbuf record', 'MEM_OUT_OF_BOUNDS', `ld_pseudo r1, 1, 3\n r2 = 2\n r3 = 0\n call 131\n if r0 == 0 goto out\n r6 = r0\n *(u16 *)(r0 + 0) = 0\n r2 = r0\n ld_pseudo r1, 1, 1\n call 1\n r1 = r6\n r2 = 0\n call 133\nout:\n r0 = 0\n exit`),
  bad('skb_load_bytes zero length', 'HELPER_SIZE', 'r2 = 0\n r3 = r10\n r3 += -8\n r4 = 0\n call 26\n r0 = 0\n exit', 'sched_cls'),
  bad('negative helper size', 'HELPER_SIZE', 'r1 = r10\n r1 += -8\n r2 = -1\n r3 = 0\n call 113\n r0 = 0\n exit'),
  ok('probe_read_kernel of zero bytes', 'r1 = r10\n r1 += -8\n r2 = 0\n r3 = 0\n call 113\n r0 = 0\n exit'),
  bad('zero bytes above the frame top', 'STACK_OUT_OF_BOUNDS', 'r1 = r10\n r1 += 4\n r2 = 0\n r3 = 0\n call 113\n r0 = 0\n exit'),
  bad('zero bytes to a NULL pointer', 'HELPER_ARG', 'r1 = 0\n r2 = 0\n r3 = 0\n call 113\n r0 = 0\n exit'),
  bad('tail_call with a scalar ctx', 'HELPER_ARG', 'r1 = 0\n ld_pseudo r2, 1, 4\n r3 = 0\n call 12\n r0 = 0\n exit'),
  ok('csum_diff over the packet', `${PKT}\n r4 = r2\n r4 += 8\n if r4 > r3 goto out\n r1 = r2\n r2 = 8\n r3 = 0\n r4 = 0\n r5 = 0\n call 28\nout:\n r0 = 0\n exit`),
  ok('map update with key and value in the packet', `${PKT}\n r4 = r2\n r4 += 8\n if r4 > r3 goto out\n r3 = r2\n ld_pseudo r1, 1, 1\n r4 = 0\n call 2\nout:\n r0 = 0\n exit`),
  bad('ringbuf_output of packet bytes', 'PKT_ACCESS', `${PKT}\n r4 = r2\n r4 += 8\n if r4 > r3 goto out\n ld_pseudo r1, 1, 3\n r3 = 8\n r4 = 0\n call 130\nout:\n r0 = 0\n exit`),
  bad('probe_read_kernel into the packet', 'PKT_ACCESS', `${PKT}\n r4 = r2\n r4 += 8\n if r4 > r3 goto out\n r1 = r2\n r2 = 8\n r3 = 0\n call 113\nout:\n r0 = 0\n exit`),
  bad('queue pop into the packet', 'PKT_ACCESS', `${PKT}\n r4 = r2\n r4 += 8\n if r4 > r3 goto out\n ld_pseudo r1, 1, 5\n call 88\nout:\n r0 = 0\n exit`),
  bad('ringbuf_output size past the stack', 'STACK_OUT_OF_BOUNDS', '*(u64 *)(r10 - 8) = 1\n ld_pseudo r1, 1, 3\n r2 = r10\n r2 += -8\n r3 = 16\n r4 = 0\n call 130\n exit'),
];

const calls: Case[] = [
  differs(SUBPROG_BTF, ok('tail call in a subprogram', 'call fn\n exit\nfn:\n ld_pseudo r2, 1, 4\n r3 = 0\n call 12\n r0 = 0\n exit')),
  bad('tail call in a subprogram under a 256-byte caller stack', 'STACK_TOO_LARGE', '*(u64 *)(r10 - 256) = 0\n call fn\n exit\nfn:\n ld_pseudo r2, 1, 4\n r3 = 0\n call 12\n r0 = 0\n exit'),
  differs(SUBPROG_BTF, ok('tail call in a subprogram under a 240-byte caller stack', '*(u64 *)(r10 - 240) = 0\n call fn\n exit\nfn:\n ld_pseudo r2, 1, 4\n r3 = 0\n call 12\n r0 = 0\n exit')),
  bad('tail call two frames under 256 bytes', 'STACK_TOO_LARGE', '*(u64 *)(r10 - 128) = 0\n call f1\n exit\nf1:\n *(u64 *)(r10 - 128) = 0\n call f2\n exit\nf2:\n ld_pseudo r2, 1, 4\n r3 = 0\n call 12\n r0 = 0\n exit'),
  ok('sibling calls do not add up', '*(u64 *)(r10 - 256) = 0\n call f1\n call f2\n exit\nf1:\n *(u64 *)(r10 - 256) = 0\n r0 = 0\n exit\nf2:\n *(u64 *)(r10 - 256) = 0\n r0 = 0\n exit'),
  bad('three frames over 512 bytes', 'STACK_TOO_LARGE', '*(u64 *)(r10 - 200) = 0\n call f1\n exit\nf1:\n *(u64 *)(r10 - 200) = 0\n call f2\n exit\nf2:\n *(u64 *)(r10 - 200) = 0\n r0 = 0\n exit'),
  bad('gotol out of range', 'BAD_JUMP', 'r0 = 0\n gotol +5\n exit'),
  bad('gotol into lddw', 'BAD_JUMP', 'gotol +1\n r0 = 1 ll\n exit'),
  ok('gotol backwards loop', 'r1 = 0\nloop:\n r1 += 1\n if r1 > 9 goto out\n gotol loop\nout:\n r0 = 0\n exit'),
  bad('gotol with off set', 'INVALID_INSN', '.byte 0x06, 0, 1, 0, 0, 0, 0, 0\n r0 = 0\n exit'),
  bad('gotol across subprograms', 'BAD_JUMP', 'call fn\n gotol fn2\n exit\nfn:\nfn2:\n r0 = 0\n exit'),
  bad('gotol self loop', 'INFINITE_LOOP', 'r0 = 0\n if r1 == 0 goto +1\nl:\n gotol l\n exit'),
  ok('map value lddw with an offset', 'ld_pseudo r1, 2, 0x3c00000006\n r0 = *(u32 *)(r1 + 0)\n exit'),
  bad('map value lddw offset plus access past the end', 'MAP_VALUE_OUT_OF_BOUNDS', 'ld_pseudo r1, 2, 0x3c00000006\n r0 = *(u64 *)(r1 + 0)\n exit'),
  bad('map value lddw offset at value_size', 'BAD_MAP_FD', 'ld_pseudo r1, 2, 0x4000000006\n r0 = *(u8 *)(r1 + 0)\n exit'),
  bad('map value lddw on a hash map', 'BAD_MAP_FD', 'ld_pseudo r1, 2, 1\n r0 = *(u8 *)(r1 + 0)\n exit'),
  bad('map value lddw on a multi-entry array', 'BAD_MAP_FD', 'ld_pseudo r1, 2, 2\n r0 = *(u8 *)(r1 + 0)\n exit'),
  bad('map fd lddw with a second-half immediate', 'INVALID_INSN', 'ld_pseudo r1, 1, 0x100000001\n r0 = 0\n exit'),
  bad('unknown map fd in dead code', 'BAD_MAP_FD', 'r0 = 0\n if r0 == 0 goto +2\n ld_pseudo r1, 1, 99\n exit'),
  bad('map value lddw past the end in dead code', 'BAD_MAP_FD', 'r0 = 0\n if r0 == 0 goto +2\n ld_pseudo r1, 2, 0x4000000006\n exit'),
  bad('unknown lddw source in dead code', 'INVALID_INSN', 'r0 = 0\n if r0 == 0 goto +2\n .byte 0x18, 0x70, 0, 0, 1, 0, 0, 0\n .byte 0, 0, 0, 0, 0, 0, 0, 0\n exit'),
];

const ctxRules: Case[] = [
  bad('xdp write data', 'CTX_ACCESS', 'r2 = 0\n *(u32 *)(r1 + 0) = r2\n r0 = 0\n exit'),
  bad('xdp negative ctx offset', 'CTX_ACCESS', 'r0 = *(u32 *)(r1 - 4)\n exit'),
  bad('xdp narrow data_meta', 'CTX_ACCESS', 'r0 = *(u16 *)(r1 + 8)\n exit'),
  ok('xdp ctx offset undone', 'r1 += 4\n r1 += -4\n r0 = *(u32 *)(r1 + 12)\n exit'),
  bad('xdp ctx variable offset', 'MODIFIED_CTX', 'r2 = *(u32 *)(r1 + 12)\n r2 &= 4\n r1 += r2\n r0 = *(u32 *)(r1 + 0)\n exit'),
  ok('tc narrow read inside mark', 'r0 = *(u8 *)(r1 + 9)\n exit', 'sched_cls'),
  bad('tc misaligned narrow read', 'CTX_ACCESS', 'r0 = *(u16 *)(r1 + 9)\n exit', 'sched_cls'),
  bad('tc narrow write of mark', 'CTX_ACCESS', 'r2 = 1\n *(u16 *)(r1 + 8) = r2\n r0 = 0\n exit', 'sched_cls'),
  bad('tc write protocol', 'CTX_ACCESS', 'r2 = 1\n *(u32 *)(r1 + 16) = r2\n r0 = 0\n exit', 'sched_cls'),
  ok('tc write priority and tc_index', 'r2 = 1\n *(u32 *)(r1 + 32) = r2\n *(u32 *)(r1 + 44) = r2\n r0 = 0\n exit', 'sched_cls'),
  bad('socket filter write priority', 'CTX_ACCESS', 'r2 = 1\n *(u32 *)(r1 + 32) = r2\n r0 = 0\n exit', 'socket_filter'),
  bad('tc cb 64-bit at an odd word', 'CTX_ACCESS', 'r0 = *(u64 *)(r1 + 52)\n exit', 'sched_cls'),
  bad('tc read past the struct', 'CTX_ACCESS', 'r0 = *(u32 *)(r1 + 192)\n exit', 'sched_cls'),
  bad('socket filter wire_len', 'CTX_ACCESS', 'r0 = *(u32 *)(r1 + 160)\n exit', 'socket_filter'),
  ok('tc wire_len', 'r0 = *(u32 *)(r1 + 160)\n exit', 'sched_cls'),
  ok('tc st imm into mark', '*(u32 *)(r1 + 8) = 1\n r0 = 0\n exit', 'sched_cls'),
  ok('socket filter st imm into cb', '*(u32 *)(r1 + 48) = 7\n r0 = 0\n exit', 'socket_filter'),
  bad('socket filter st imm into mark', 'CTX_ACCESS', '*(u32 *)(r1 + 8) = 7\n r0 = 0\n exit', 'socket_filter'),
  differs('sockets are not modelled: __sk_buff->sk is not accessible', bad('tc sk field', 'CTX_ACCESS', 'r0 = *(u64 *)(r1 + 168)\n exit', 'sched_cls')),
  ok('tc hwtstamp read', 'r0 = *(u64 *)(r1 + 184)\n exit', 'sched_cls'),
  ok('tc cb byte read', 'r0 = *(u8 *)(r1 + 51)\n exit', 'sched_cls'),
  ok('tc hash upper half', 'r0 = *(u16 *)(r1 + 70)\n exit', 'sched_cls'),
  bad('socket filter tc_classid', 'CTX_ACCESS', 'r0 = *(u32 *)(r1 + 72)\n exit', 'socket_filter'),
  bad('tc napi_id write', 'CTX_ACCESS', 'r2 = 1\n *(u32 *)(r1 + 84) = r2\n r0 = 0\n exit', 'sched_cls'),
  bad('xdp ingress_ifindex upper half', 'CTX_ACCESS', 'r0 = *(u16 *)(r1 + 14)\n exit'),
  differs('tstamp_type is not modelled (docs/verifier.md, program types)', bad('tc tstamp_type', 'CTX_ACCESS', 'r0 = *(u8 *)(r1 + 180)\n exit', 'sched_cls')),
  ok('32-bit pointer difference', 'r2 = r10\n w2 -= w1\n r0 = r2\n exit'),
  ok('byte swap of a pointer is a number', 'r2 = r10\n r2 = be64 r2\n r0 = r2\n exit'),
  bad('tc hwtstamp write', 'CTX_ACCESS', 'r0 = 0\n *(u64 *)(r1 + 184) = r0\n exit', 'sched_cls'),
];

/** CASES is the whole table. */
export const CASES: Case[] = [
  ...controlFlow, ...subprogs, ...registers, ...pointers, ...stack, ...xdpCtx, ...packet, ...skb, ...maps, ...helpers, ...scalars, ...raw,
  ...callbacks, ...refs, ...bounds, ...memory, ...calls, ...ctxRules,
];
