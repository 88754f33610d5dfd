/**
 * The plain data parsing produces: an ObjectSpec with its ProgramSpecs and MapSpecs. Specs
 * hold no live state (no fds, no memory); the runtime creates maps from MapSpecs and then
 * resolves each program's map relocations against them (the spec/live split).
 */
import type { Insn } from '../isa/index.js';
import type { Btf, BtfExt, FuncInfo, LineInfo, CoreRelo } from '../btf/index.js';
import type { ProgType, AttachType } from './sec-defs.js';

/** MAP_TYPES lists enum bpf_map_type in kernel order (index = numeric value), bpftool spelling. */
export const MAP_TYPES = [
  'unspec', 'hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array', 'stack_trace',
  'cgroup_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps', 'hash_of_maps', 'devmap',
  'sockmap', 'cpumap', 'xskmap', 'sockhash', 'cgroup_storage', 'reuseport_sockarray', 'percpu_cgroup_storage',
  'queue', 'stack', 'sk_storage', 'devmap_hash', 'struct_ops', 'ringbuf', 'inode_storage', 'task_storage',
  'bloom_filter', 'user_ringbuf', 'cgrp_storage', 'arena',
] as const;

/** MapTypeName is a map type in bpftool's spelling, or `type_<n>` for numbers we do not know. */
export type MapTypeName = (typeof MAP_TYPES)[number] | `type_${number}`;

/** BPF_F_RDONLY_PROG: programs may not write the map (.rodata). */
export const BPF_F_RDONLY_PROG = 1 << 7;
/** BPF_F_MMAPABLE: the array can be memory-mapped (global data). */
export const BPF_F_MMAPABLE = 1 << 10;

/** MapSlot is one initial entry of a prog array or map of maps: index -> program or map name. */
export interface MapSlot { key: number; name: string }

/** MapSpec describes a map to create. */
export interface MapSpec {
  name: string;
  /** section the definition came from: ".maps", "maps" (legacy), or a data section */
  section: string;
  type: MapTypeName;
  /** typeId is the numeric enum bpf_map_type value */
  typeId: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** pinning: 'by_name' pins under the bpffs pin path (LIBBPF_PIN_BY_NAME) */
  pinning: 'none' | 'by_name';
  numaNode: number;
  mapExtra: bigint;
  /** BTF type ids of key and value when the definition names them (0 = none) */
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** innerMap is the template of the maps stored in a map of maps */
  innerMap: MapSpec | null;
  /** contents are initial slots of prog arrays (program names) and maps of maps (map names) */
  contents: MapSlot[];
  /** initialValue is the value of key 0 for global data maps (.data, .rodata...); null otherwise */
  initialValue: Uint8Array | null;
}

/** InsnReloc asks the runtime to patch an `lddw` at `insn` with a live map. */
export interface InsnReloc {
  insn: number;
  /** 'map': load the map itself (BPF_PSEUDO_MAP_FD); 'map_value': address of value + offset (BPF_PSEUDO_MAP_VALUE) */
  kind: 'map' | 'map_value';
  map: string;
  offset: number;
}

/** SubprogSpec says where a linked subprogram starts in a program's instructions. */
export interface SubprogSpec { name: string; insn: number }

/** ProgramSpec is one program: its own code followed by the subprograms it calls. */
export interface ProgramSpec {
  name: string;
  sectionName: string;
  type: ProgType;
  expectedAttachType: AttachType | null;
  /** attachTo is the target named by the section: "do_sys_open" for kprobe/do_sys_open */
  attachTo: string;
  sleepable: boolean;
  xdpFrags: boolean;
  license: string;
  kernVersion: number;
  /** insns: kernel slot layout; bpf-to-bpf call immediates already point at the appended subprograms */
  insns: Insn[];
  /** relocations that still need live maps, by slot index into `insns` */
  relocations: InsnReloc[];
  subprograms: SubprogSpec[];
  /** BTF.ext records moved to slot indices of `insns` (empty without BTF.ext) */
  funcInfo: FuncInfo[];
  lineInfo: LineInfo[];
  coreRelos: CoreRelo[];
}

/** ObjectSpec is everything a BPF ELF object declares. */
export interface ObjectSpec {
  littleEndian: boolean;
  license: string;
  kernVersion: number;
  programs: ProgramSpec[];
  maps: MapSpec[];
  btf: Btf | null;
  btfExt: BtfExt | null;
}

/** mapTypeName converts a numeric map type to its name. */
export function mapTypeName(n: number): MapTypeName {
  return MAP_TYPES[n] ?? `type_${n}`;
}
