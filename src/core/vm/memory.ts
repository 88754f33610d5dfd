/**
 * The runtime's one address space: a WebAssembly.Memory in which stacks, contexts, packet
 * buffers and map storage live. A pointer in an eBPF register is an offset into it, the same
 * for the interpreter and the JIT. The first 64 KiB are never handed out, so address 0 and
 * small offsets from it are never valid.
 */
import { BpfError } from '../errors.js';
import { MAX_CALL_FRAMES, STACK_FRAME_SIZE } from '../isa/opcodes.js';

/** Region permissions. */
export const PERM_R = 1;
export const PERM_W = 2;
export const PERM_RW = 3;

/** Region is a range [start, end) of the address space a program may access. */
export interface Region {
  start: number;
  end: number;
  /** PERM_R, PERM_W or both */
  perm: number;
  /** what it is, for error messages: "stack", "ctx", "data", "map value" ... */
  name: string;
}

/** GUARD_SIZE is the never-valid space at the bottom of every address space. */
export const GUARD_SIZE = 65536;
/** STACK_SIZE is the stack of one execution context: all frames of a call chain. */
export const STACK_SIZE = STACK_FRAME_SIZE * MAX_CALL_FRAMES;
const PAGE = 65536;

/** AddressSpaceOptions sizes an address space. */
export interface AddressSpaceOptions {
  /** initial size in bytes (rounded up to 64 KiB pages); default 16 MiB */
  initialBytes?: number;
  /** maximum size in bytes; default 1 GiB */
  maximumBytes?: number;
  /** back the memory with a SharedArrayBuffer so workers can share it */
  shared?: boolean;
  /**
   * an existing memory to use (a worker's view of a shared address space); with `arena`, this
   * space allocates only inside [arena[0], arena[1]) (a block the owner of the memory reserved)
   */
  memory?: WebAssembly.Memory;
  arena?: [number, number];
}

/**
 * AddressSpace owns the WebAssembly.Memory and hands out aligned blocks from it.
 * Views (u8, dv) are refreshed automatically when the memory grows.
 */
export class AddressSpace {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  private top = GUARD_SIZE;
  private readonly limit: number = Infinity;
  private buf: ArrayBuffer | SharedArrayBuffer;
  private _u8: Uint8Array;
  private _dv: DataView;

  constructor(opts: AddressSpaceOptions = {}) {
    const initial = Math.ceil((opts.initialBytes ?? 16 << 20) / PAGE);
    const maximum = Math.ceil((opts.maximumBytes ?? 1 << 30) / PAGE);
    this.shared = opts.memory ? typeof SharedArrayBuffer !== 'undefined' && opts.memory.buffer instanceof SharedArrayBuffer : opts.shared ?? false;
    this.memory = opts.memory ?? new WebAssembly.Memory({ initial, maximum, shared: this.shared } as WebAssembly.MemoryDescriptor);
    if (opts.arena) {
      this.top = opts.arena[0];
      this.limit = opts.arena[1];
    }
    this.buf = this.memory.buffer;
    this._u8 = new Uint8Array(this.buf);
    this._dv = new DataView(this.buf);
  }

  /** u8 is a byte view of the whole memory (current after any growth). */
  get u8(): Uint8Array {
    if (this.stale()) this.refresh();
    return this._u8;
  }

  /** dv is a DataView of the whole memory (current after any growth). */
  get dv(): DataView {
    if (this.stale()) this.refresh();
    return this._dv;
  }

  /** size is the current size of the memory in bytes. */
  get size(): number {
    return this.shared ? this.memory.buffer.byteLength : this.u8.byteLength;
  }

  /**
   * stale tells whether the views must be rebuilt: growth detaches an unshared memory's old
   * buffer (byteLength 0, a cheap test; the Memory.buffer getter is costly on hot paths), while
   * a shared memory's old buffer stays valid at its old length, so only asking the memory tells.
   */
  private stale(): boolean {
    return this.shared ? this.memory.buffer !== this.buf : this.buf.byteLength === 0;
  }

  private refresh(): void {
    this.buf = this.memory.buffer;
    this._u8 = new Uint8Array(this.buf);
    this._dv = new DataView(this.buf);
  }

  /** alloc returns the address of `size` fresh zeroed bytes aligned to `align`, growing the memory if needed. */
  alloc(size: number, align = 8): number {
    if (!Number.isInteger(size) || size < 0) throw new BpfError('EINVAL', `bad allocation size ${size}`);
    const start = (this.top + align - 1) & ~(align - 1);
    const end = start + Math.max(size, 1);
    if (end > this.limit) throw new BpfError('ENOMEM', `arena exhausted: ${size} bytes do not fit below ${this.limit}`);
    if (end > this.size) {
      const pages = Math.ceil((end - this.size) / PAGE);
      try {
        this.memory.grow(pages);
      } catch {
        throw new BpfError('ENOMEM', `address space cannot grow to ${end} bytes`);
      }
    }
    this.top = end;
    this.u8.fill(0, start, end);
    return start;
  }

  /** write copies bytes into memory at `addr`. */
  write(addr: number, bytes: Uint8Array): void {
    this.u8.set(bytes, addr);
  }

  /** read copies `len` bytes out of memory at `addr`. */
  read(addr: number, len: number): Uint8Array {
    return this.u8.slice(addr, addr + len);
  }
}

/**
 * ExecStack is the stack of one execution context ("CPU"): MAX_CALL_FRAMES frames of
 * STACK_FRAME_SIZE bytes, followed by a shadow byte per stack byte that checked mode uses to
 * catch reads of uninitialised stack (1 = written). Frame 0 (the main program) is at the top:
 * its r10 is `base + STACK_SIZE`; frame k's r10 is `base + STACK_SIZE - k * STACK_FRAME_SIZE`.
 */
export class ExecStack {
  readonly base: number;
  readonly shadow: number;
  constructor(readonly space: AddressSpace) {
    this.base = space.alloc(STACK_SIZE * 2, 4096);
    this.shadow = this.base + STACK_SIZE;
  }

  /** top is r10 of frame `k`. */
  top(k: number): number {
    return this.base + STACK_SIZE - k * STACK_FRAME_SIZE;
  }

  /** region is the stack as a Region for checked mode. */
  region(): Region {
    return { start: this.base, end: this.base + STACK_SIZE, perm: PERM_RW, name: 'stack' };
  }

  /** resetFrame marks frame k's bytes uninitialised. */
  resetFrame(k: number): void {
    const t = this.top(k) - STACK_FRAME_SIZE - this.base + this.shadow;
    this.space.u8.fill(0, t, t + STACK_FRAME_SIZE);
  }
}
