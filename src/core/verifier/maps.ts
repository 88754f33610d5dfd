/**
 * Maps as the verifier sees them: type, key and value sizes, entries. The caller supplies a
 * `maps(fd)` lookup; the verifier never touches map contents. Map types are the kernel's
 * enum bpf_map_type, by number or by bpftool name ('hash', 'array', 'ringbuf', ...).
 */

/** MapInfo describes one map referenced by a program. */
export interface MapInfo {
  /** kernel map type: number (BPF_MAP_TYPE_*) or bpftool name ('hash', 'percpu_array', 'ringbuf'...) */
  type: number | string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** offset of a `struct bpf_spin_lock` in the value (what BTF would tell the kernel), when it has one */
  spinLockOff?: number;
  /** maps of maps: the inner maps' description (lookups return a pointer to such a map) */
  inner?: MapInfo;
}

/** MapLookup resolves the map fd (or fd_array index) used in a `lddw` to its description. */
export type MapLookup = (fd: number) => MapInfo | undefined;

/** MapRef is a resolved map: the fd the program used and its description. */
export interface MapRef {
  readonly fd: number;
  readonly info: MapInfo;
  /** normalised type number */
  readonly type: number;
}

/** MAP_TYPES lists the kernel's map type numbers by bpftool name. */
export const MAP_TYPES: Record<string, number> = {
  hash: 1, array: 2, prog_array: 3, perf_event_array: 4, percpu_hash: 5, percpu_array: 6, stack_trace: 7,
  cgroup_array: 8, lru_hash: 9, lru_percpu_hash: 10, lpm_trie: 11, array_of_maps: 12, hash_of_maps: 13,
  devmap: 14, sockmap: 15, cpumap: 16, xskmap: 17, sockhash: 18, cgroup_storage: 19, reuseport_sockarray: 20,
  percpu_cgroup_storage: 21, queue: 22, stack: 23, sk_storage: 24, devmap_hash: 25, struct_ops: 26, ringbuf: 27,
  inode_storage: 28, task_storage: 29, bloom_filter: 30, user_ringbuf: 31, cgrp_storage: 32, arena: 33,
};

/** mapTypeNumber normalises a map type to its kernel number (-1 when unknown). */
export function mapTypeNumber(t: number | string): number {
  if (typeof t === 'number') return t;
  const n = t.toLowerCase().replace(/^bpf_map_type_/, '');
  return MAP_TYPES[n] ?? -1;
}

/** mapTypeName gives the bpftool name of a map type number. */
export function mapTypeName(n: number): string {
  return Object.keys(MAP_TYPES).find((k) => MAP_TYPES[k] === n) ?? `type ${n}`;
}

/** MT has the map type numbers the verifier's rules mention. */
export const MT = {
  HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5, PERCPU_ARRAY: 6, LRU_HASH: 9, LRU_PERCPU_HASH: 10,
  LPM_TRIE: 11, ARRAY_OF_MAPS: 12, HASH_OF_MAPS: 13, DEVMAP: 14, CPUMAP: 16, XSKMAP: 17, QUEUE: 22, STACK: 23,
  DEVMAP_HASH: 25, RINGBUF: 27, BLOOM_FILTER: 30,
} as const;

/** lookupMaps are the map types whose values bpf_map_lookup_elem returns (a pointer to the value). */
export const VALUE_MAPS = new Set<number>([MT.HASH, MT.ARRAY, MT.PERCPU_HASH, MT.PERCPU_ARRAY, MT.LRU_HASH,
  MT.LRU_PERCPU_HASH, MT.LPM_TRIE, MT.DEVMAP, MT.DEVMAP_HASH, MT.CPUMAP, MT.XSKMAP]);

/** MAP_OF_MAPS are the map types whose lookups return a pointer to an inner map. */
export const MAP_OF_MAPS = new Set<number>([MT.ARRAY_OF_MAPS, MT.HASH_OF_MAPS]);
