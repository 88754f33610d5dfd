/**
 * Stack slots: stores spill registers (8-byte stores of anything, narrower stores of
 * scalars at a slot's start) or mark bytes as data (MISC) or known zero; loads fill spilled
 * registers back, and every loaded byte must have been written. Accesses must be aligned
 * to their size, as the kernel demands for the stack.
 */
import { STACK_FRAME_SIZE } from '../isa/opcodes.js';
import { reject } from './codes.js';
import { RegType, UNKNOWN_REG, isKnownZero, isPointer, scalarReg, type Reg } from './reg.js';
import { UNKNOWN, known, truncate } from './scalar.js';
import { scalarMovsx } from './scalar-alu.js';
import { STACK_INVALID, STACK_MISC, STACK_SPILL, STACK_ZERO, ownStack, type Frame } from './state.js';

/** loadedScalar is an unknown scalar loaded with `size` bytes (zero- or sign-extended). */
export function loadedScalar(size: number, sx: boolean): Reg {
  if (size === 8) return UNKNOWN_REG;
  const k = size * 2 + (sx ? 1 : 0);
  return (LOADED[k] ??= scalarReg(sx ? scalarMovsx(UNKNOWN, size * 8, true) : truncate(UNKNOWN, size)));
}

/** LOADED caches loadedScalar's registers (registers are immutable). */
const LOADED: (Reg | undefined)[] = [];

/** scrubSlot turns a spilled register in slot `spi` into plain data. */
export function scrubSlot(f: Frame, spi: number): void {
  if (!f.spills[spi]) return;
  ownStack(f);
  for (let i = spi * 8; i < spi * 8 + 8; i++) if (f.stype[i] === STACK_SPILL) f.stype[i] = STACK_MISC;
  f.spills[spi] = null;
  f.spillSize[spi] = 0;
}

/**
 * stackWrite stores `size` bytes at `off` (fixed, relative to the frame's r10). `value` is
 * the stored register (STX) or a known scalar (ST); `ownFrame` is false when the frame is a
 * caller's (pointers to the stack may not be stored there).
 */
export function stackWrite(f: Frame, off: number, size: number, value: Reg, ownFrame: boolean): void {
  const i0 = STACK_FRAME_SIZE + off;
  const spi = i0 >> 3;
  const aligned = (i0 & 7) === 0;
  if (isPointer(value)) {
    if (size !== 8) reject('INVALID_FILL', 'invalid size of register spill');
    if (!ownFrame && value.type === RegType.PTR_TO_STACK) {
      reject('STACK_PTR_SPILL', 'cannot spill pointers to stack into stack frame of the caller');
    }
  }
  ownStack(f);
  scrubSlot(f, spi);
  if (aligned && (isPointer(value) || value.type === RegType.SCALAR)) {
    let r = value;
    if (size < 8 && r.type === RegType.SCALAR) {
      const t = truncate(r.s, size);
      r = t === r.s || t.umax === r.s.umax ? r : scalarReg(t);
    }
    f.stype.fill(STACK_SPILL, i0, i0 + size);
    f.spills[spi] = r;
    f.spillSize[spi] = size;
    return;
  }
  f.stype.fill(isKnownZero(value) ? STACK_ZERO : STACK_MISC, i0, i0 + size);
}

/** stackRead loads `size` bytes at `off` (fixed); `sx` for sign-extending loads. */
export function stackRead(f: Frame, regno: number, off: number, size: number, sx: boolean): Reg {
  const i0 = STACK_FRAME_SIZE + off;
  const spi = i0 >> 3;
  for (let i = i0; i < i0 + size; i++) {
    if (f.stype[i] === STACK_INVALID) reject('UNINIT_STACK', `invalid read from stack R${regno} off ${off}+${i - i0} size ${size}`);
  }
  const sp = f.spills[spi];
  const touchesSpill = f.stype.subarray(i0, i0 + size).includes(STACK_SPILL);
  if (sp && touchesSpill) {
    const start = (i0 & 7) === 0;
    if (isPointer(sp)) {
      if (!start || size !== 8) reject('INVALID_FILL', 'invalid size of register fill');
      return sp;
    }
    if (start && size <= f.spillSize[spi]) {
      const t = truncate(sp.s, size);
      const keepId = t.umax === sp.s.umax && t.umin === sp.s.umin && !sx;
      if (sx && size < 8) return scalarReg(scalarMovsx(sp.s, size * 8, true));
      return keepId ? sp : scalarReg(t);
    }
  }
  let zero = true;
  for (let i = i0; i < i0 + size; i++) if (f.stype[i] !== STACK_ZERO) zero = false;
  return zero ? scalarReg(known(0n)) : loadedScalar(size, sx);
}

/** stackCheckInit rejects when a byte of [lo, hi) (offsets) was never written. */
export function stackCheckInit(f: Frame, regno: number, lo: number, hi: number, what = 'read from'): void {
  for (let off = lo; off < hi; off++) {
    if (f.stype[STACK_FRAME_SIZE + off] === STACK_INVALID) {
      reject('UNINIT_STACK', `invalid ${what} stack R${regno} off ${off} size ${hi - lo} (uninitialized)`);
    }
  }
}

/**
 * stackClobber records a write to bytes [lo, hi) whose exact position or content is not
 * known: spilled registers there become data; bytes become written only when `definite`.
 */
export function stackClobber(f: Frame, lo: number, hi: number, definite: boolean): void {
  ownStack(f);
  for (let off = lo; off < hi; off++) {
    const i = STACK_FRAME_SIZE + off;
    scrubSlot(f, i >> 3);
    if (definite || f.stype[i] === STACK_ZERO) f.stype[i] = STACK_MISC;
  }
}
