/**
 * The memory layout of maps in the address space, shared by the TypeScript operations
 * (ops-*.ts) and the WebAssembly map runtime (wasm.ts). Every map is a 128-byte header
 * followed by its storage; all fields are little-endian u32 at fixed offsets, so both
 * implementations (and programs holding pointers) agree byte for byte.
 *
 * Header (H_* offsets):
 *   +0   id        index of the map in the runtime's map table (validates map pointers)
 *   +4   type      enum bpf_map_type
 *   +8   keySize   +12 valueSize   +16 maxEntries   +20 flags
 *   +24  stride    value size rounded up to 8 (one CPU's slot)
 *   +28  ncpus     value slots per element (1, or the runtime's CPU count for per-CPU maps)
 *   +32  values    address of the value storage (the only part programs may access)
 *   +36  keys      address of the key storage (hash maps; kstride bytes per element)
 *   +40  buckets   address of the bucket heads (hash maps; u32 element index + 1, 0 = empty)
 *   +44  nbuckets  number of buckets (a power of two)
 *   +48  next      address of the per-element chain links (u32 index + 1)
 *   +52  free      head of the free element list (index + 1, 0 = none)
 *   +56  count     elements in use (hash maps)
 *   +60  lock      update lock word (0 free, 1 held), used when the memory is shared
 *   +64  estride   bytes per element in the value storage (ncpus * stride)
 *   +68  hashes    address of the per-element key hash (u32)
 *   +72  kstride   bytes per key in the key storage (keySize rounded up to 8)
 *   +76  frozen    1 after BPF_MAP_FREEZE (user-space writes refused)
 *   +80  aux0 .. +124 aux: per-type extra fields (LRU clock, queue head/tail ...)
 */

/** HEADER_SIZE is the size of a map header. */
export const HEADER_SIZE = 128;

export const H_ID = 0, H_TYPE = 4, H_KEY_SIZE = 8, H_VALUE_SIZE = 12, H_MAX_ENTRIES = 16, H_FLAGS = 20;
export const H_STRIDE = 24, H_NCPUS = 28, H_VALUES = 32, H_KEYS = 36, H_BUCKETS = 40, H_NBUCKETS = 44;
export const H_NEXT = 48, H_FREE = 52, H_COUNT = 56, H_LOCK = 60, H_ESTRIDE = 64, H_HASHES = 68;
export const H_KSTRIDE = 72, H_FROZEN = 76, H_AUX = 80;
/** H_SPIN: offset + 1 of the value's struct bpf_spin_lock (0: none); after every type's aux words */
export const H_SPIN = 124;

/**
 * Runtime block: a small fixed record the Wasm map runtime finds through an imported global.
 *   +0 u32 address of the map table (u32 header address per map id)
 *   +4 u32 number of entries in the map table
 */
export const RB_TABLE = 0, RB_TABLE_LEN = 4;
/** RUNTIME_BLOCK_SIZE is the size of the runtime block. */
export const RUNTIME_BLOCK_SIZE = 16;

/** Map types (enum bpf_map_type) tsbpf implements. */
export const BPF_MAP_TYPE_HASH = 1;
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_PROG_ARRAY = 3;
export const BPF_MAP_TYPE_PERCPU_HASH = 5;
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
export const BPF_MAP_TYPE_LRU_HASH = 9;
export const BPF_MAP_TYPE_LRU_PERCPU_HASH = 10;
export const BPF_MAP_TYPE_LPM_TRIE = 11;
export const BPF_MAP_TYPE_QUEUE = 22;
export const BPF_MAP_TYPE_STACK = 23;
export const BPF_MAP_TYPE_RINGBUF = 27;

/** Update flags. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
export const BPF_F_LOCK = 4;

/** Map creation flags tsbpf accepts. */
export const BPF_F_NO_PREALLOC = 1 << 0;
export const BPF_F_RDONLY = 1 << 3;
export const BPF_F_WRONLY = 1 << 4;
export const BPF_F_WRONLY_PROG = 1 << 8;
// BPF_F_RDONLY_PROG (1 << 7) and BPF_F_MMAPABLE (1 << 10) are the ELF loader's (same values)
export { BPF_F_MMAPABLE, BPF_F_RDONLY_PROG } from '../elf/spec.js';

/** Linux errno values the map operations return (negated) and the command API maps to codes. */
export const ENOENT = 2, E2BIG = 7, ENOMEM = 12, EBUSY = 16, EEXIST = 17, EINVAL = 22, ENOSPC = 28, EPERM = 1;
/** ENOTSUPP is the kernel-internal 524 bpf(2) returns for unsupported map operations. */
export const ENOTSUPP = 524;

/** round8 rounds up to a multiple of 8. */
export function round8(n: number): number {
  return (n + 7) & ~7;
}

/** isPerCpu tells whether a map type keeps one value slot per CPU. */
export function isPerCpu(type: number): boolean {
  return type === BPF_MAP_TYPE_PERCPU_ARRAY || type === BPF_MAP_TYPE_PERCPU_HASH || type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/** isHashType tells whether a map type uses the hash table layout. */
export function isHashType(type: number): boolean {
  return type === BPF_MAP_TYPE_HASH || type === BPF_MAP_TYPE_PERCPU_HASH
    || type === BPF_MAP_TYPE_LRU_HASH || type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/** isLruType tells whether a map type is an LRU hash (elements recycled through LRU lists). */
export function isLruType(type: number): boolean {
  return type === BPF_MAP_TYPE_LRU_HASH || type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/** hasValueRegion tells whether programs may access a map type's value storage directly. */
export function hasValueRegion(type: number): boolean {
  return type !== BPF_MAP_TYPE_PROG_ARRAY && type !== BPF_MAP_TYPE_QUEUE && type !== BPF_MAP_TYPE_STACK
    && type !== 12 && type !== 13 && type !== 30; // maps of maps hold map ids, bloom filters bits
}

/** isQueueStack tells whether a map type is a queue or a stack (push/pop/peek, no keys). */
export function isQueueStack(type: number): boolean {
  return type === BPF_MAP_TYPE_QUEUE || type === BPF_MAP_TYPE_STACK;
}

/** isArrayType tells whether a map type uses the array layout (values indexed by a u32 key). */
export function isArrayType(type: number): boolean {
  return type === BPF_MAP_TYPE_ARRAY || type === BPF_MAP_TYPE_PERCPU_ARRAY;
}
