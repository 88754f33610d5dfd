/**
 * Helper prototypes as data, as the kernel's verifier sees helpers (struct bpf_func_proto):
 * the kind of each argument register, the kind of the result, and the restrictions (program
 * types, map types, packet-changing, callbacks). The verifier checks calls against these;
 * a helper without a prototype here cannot be verified.
 */
import { BPF_FUNC } from './ids.js';

/** ArgType is what an argument register must hold (kernel enum bpf_arg_type). */
export type ArgType =
  | 'ARG_ANYTHING' // any initialised value
  | 'ARG_CONST_MAP_PTR' // a map (lddw of a map fd)
  | 'ARG_PTR_TO_MAP_KEY' // pointer to key_size initialised bytes
  | 'ARG_PTR_TO_MAP_VALUE' // pointer to value_size initialised bytes
  | 'ARG_PTR_TO_UNINIT_MAP_VALUE' // pointer to value_size writable bytes
  | 'ARG_PTR_TO_MEM' // pointer to initialised memory; the size is the next argument
  | 'ARG_PTR_TO_MEM_OR_NULL' // same, or NULL (with size 0)
  | 'ARG_PTR_TO_UNINIT_MEM' // pointer to writable memory; the size is the next argument
  | 'ARG_CONST_SIZE' // size of the previous memory argument, bounded, > 0
  | 'ARG_CONST_SIZE_OR_ZERO' // same, may be 0
  | 'ARG_CONST_ALLOC_SIZE_OR_ZERO' // a known constant size of memory the helper returns
  | 'ARG_PTR_TO_CTX' // the unmodified context pointer
  | 'ARG_PTR_TO_FUNC' // a callback (lddw of a BPF_PSEUDO_FUNC)
  | 'ARG_PTR_TO_STACK_OR_NULL' // a stack pointer or NULL (callback context)
  | 'ARG_PTR_TO_RINGBUF_MEM' // a ring-buffer record from bpf_ringbuf_reserve (the reference is released)
  | 'ARG_PTR_TO_SPIN_LOCK'; // pointer to the bpf_spin_lock inside a map value

/** RetType is what the helper leaves in r0 (kernel enum bpf_return_type). */
export type RetType = 'RET_INTEGER' | 'RET_VOID' | 'RET_PTR_TO_MAP_VALUE_OR_NULL' | 'RET_PTR_TO_RINGBUF_MEM_OR_NULL';

/** CallbackKind says how a helper calls its callback: bpf_loop(i, ctx) or for_each_map_elem(map, key, value, ctx). */
export type CallbackKind = 'loop' | 'for_each_map_elem';

/** HelperProto is the verifier's view of one helper. */
export interface HelperProto {
  id: number;
  name: string;
  args: ArgType[];
  ret: RetType;
  /** may move or resize the packet: all packet pointers are invalid after the call */
  pktChanging?: boolean;
  /** program types that may call it (all when absent) */
  progTypes?: string[];
  /** map types the ARG_CONST_MAP_PTR argument accepts (any "plain" map when absent) */
  mapTypes?: number[];
  /** the helper calls the ARG_PTR_TO_FUNC argument */
  callback?: CallbackKind;
}

// map type numbers (enum bpf_map_type)
const HASH = 1, ARRAY = 2, PROG_ARRAY = 3, PERCPU_HASH = 5, PERCPU_ARRAY = 6, LRU_HASH = 9, LRU_PERCPU_HASH = 10;
const DEVMAP = 14, CPUMAP = 16, XSKMAP = 17, QUEUE = 22, STACK = 23, DEVMAP_HASH = 25, RINGBUF = 27, BLOOM_FILTER = 30;

const NET = ['xdp', 'sched_cls'];
const SKB = ['sched_cls', 'socket_filter'];

type ProtoSpec = Omit<HelperProto, 'id' | 'name'>;

const SPECS: Record<string, ProtoSpec> = {
  map_lookup_elem: { args: ['ARG_CONST_MAP_PTR', 'ARG_PTR_TO_MAP_KEY'], ret: 'RET_PTR_TO_MAP_VALUE_OR_NULL' },
  map_update_elem: { args: ['ARG_CONST_MAP_PTR', 'ARG_PTR_TO_MAP_KEY', 'ARG_PTR_TO_MAP_VALUE', 'ARG_ANYTHING'], ret: 'RET_INTEGER' },
  map_delete_elem: { args: ['ARG_CONST_MAP_PTR', 'ARG_PTR_TO_MAP_KEY'], ret: 'RET_INTEGER' },
  map_push_elem: { args: ['ARG_CONST_MAP_PTR', 'ARG_PTR_TO_MAP_VALUE', 'ARG_ANYTHING'], ret: 'RET_INTEGER', mapTypes: [QUEUE, STACK, BLOOM_FILTER] },
  map_pop_elem: { args: ['ARG_CONST_MAP_PTR', 'ARG_PTR_TO_UNINIT_MAP_VALUE'], ret: 'RET_INTEGER', mapTypes: [QUEUE, STACK] },
  map_peek_elem: { args: ['ARG_CONST_MAP_PTR', 'ARG_PTR_TO_UNINIT_MAP_VALUE'], ret: 'RET_INTEGER', mapTypes: [QUEUE, STACK, BLOOM_FILTER] },
  ktime_get_ns: { args: [], ret: 'RET_INTEGER' },
  ktime_get_boot_ns: { args: [], ret: 'RET_INTEGER' },
  ktime_get_coarse_ns: { args: [], ret: 'RET_INTEGER' },
  get_prandom_u32: { args: [], ret: 'RET_INTEGER' },
  get_smp_processor_id: { args: [], ret: 'RET_INTEGER' },
  get_numa_node_id: { args: [], ret: 'RET_INTEGER' },
  get_current_pid_tgid: { args: [], ret: 'RET_INTEGER' },
  trace_printk: { args: ['ARG_PTR_TO_MEM', 'ARG_CONST_SIZE'], ret: 'RET_INTEGER' },
  tail_call: { args: ['ARG_PTR_TO_CTX', 'ARG_CONST_MAP_PTR', 'ARG_ANYTHING'], ret: 'RET_VOID', mapTypes: [PROG_ARRAY] },
  ringbuf_output: { args: ['ARG_CONST_MAP_PTR', 'ARG_PTR_TO_MEM', 'ARG_CONST_SIZE_OR_ZERO', 'ARG_ANYTHING'], ret: 'RET_INTEGER', mapTypes: [RINGBUF] },
  ringbuf_reserve: { args: ['ARG_CONST_MAP_PTR', 'ARG_CONST_ALLOC_SIZE_OR_ZERO', 'ARG_ANYTHING'], ret: 'RET_PTR_TO_RINGBUF_MEM_OR_NULL', mapTypes: [RINGBUF] },
  ringbuf_submit: { args: ['ARG_PTR_TO_RINGBUF_MEM', 'ARG_ANYTHING'], ret: 'RET_VOID' },
  ringbuf_discard: { args: ['ARG_PTR_TO_RINGBUF_MEM', 'ARG_ANYTHING'], ret: 'RET_VOID' },
  ringbuf_query: { args: ['ARG_CONST_MAP_PTR', 'ARG_ANYTHING'], ret: 'RET_INTEGER', mapTypes: [RINGBUF] },
  spin_lock: { args: ['ARG_PTR_TO_SPIN_LOCK'], ret: 'RET_VOID' },
  spin_unlock: { args: ['ARG_PTR_TO_SPIN_LOCK'], ret: 'RET_VOID' },
  loop: { args: ['ARG_ANYTHING', 'ARG_PTR_TO_FUNC', 'ARG_PTR_TO_STACK_OR_NULL', 'ARG_ANYTHING'], ret: 'RET_INTEGER', callback: 'loop' },
  for_each_map_elem: {
    args: ['ARG_CONST_MAP_PTR', 'ARG_PTR_TO_FUNC', 'ARG_PTR_TO_STACK_OR_NULL', 'ARG_ANYTHING'], ret: 'RET_INTEGER',
    callback: 'for_each_map_elem', mapTypes: [HASH, ARRAY, PERCPU_HASH, PERCPU_ARRAY, LRU_HASH, LRU_PERCPU_HASH],
  },
  csum_diff: { args: ['ARG_PTR_TO_MEM_OR_NULL', 'ARG_CONST_SIZE_OR_ZERO', 'ARG_PTR_TO_MEM_OR_NULL', 'ARG_CONST_SIZE_OR_ZERO', 'ARG_ANYTHING'], ret: 'RET_INTEGER' },
  redirect: { args: ['ARG_ANYTHING', 'ARG_ANYTHING'], ret: 'RET_INTEGER', progTypes: NET },
  redirect_map: { args: ['ARG_CONST_MAP_PTR', 'ARG_ANYTHING', 'ARG_ANYTHING'], ret: 'RET_INTEGER', progTypes: ['xdp'], mapTypes: [DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP] },
  xdp_adjust_head: { args: ['ARG_PTR_TO_CTX', 'ARG_ANYTHING'], ret: 'RET_INTEGER', pktChanging: true, progTypes: ['xdp'] },
  xdp_adjust_tail: { args: ['ARG_PTR_TO_CTX', 'ARG_ANYTHING'], ret: 'RET_INTEGER', pktChanging: true, progTypes: ['xdp'] },
  xdp_adjust_meta: { args: ['ARG_PTR_TO_CTX', 'ARG_ANYTHING'], ret: 'RET_INTEGER', pktChanging: true, progTypes: ['xdp'] },
  probe_read_kernel: { args: ['ARG_PTR_TO_UNINIT_MEM', 'ARG_CONST_SIZE_OR_ZERO', 'ARG_ANYTHING'], ret: 'RET_INTEGER' },
  skb_load_bytes: { args: ['ARG_PTR_TO_CTX', 'ARG_ANYTHING', 'ARG_PTR_TO_UNINIT_MEM', 'ARG_CONST_SIZE'], ret: 'RET_INTEGER', progTypes: SKB },
};

/** HELPER_PROTOS lists the prototypes the verifier knows, by helper ID. */
export const HELPER_PROTOS: ReadonlyMap<number, HelperProto> = new Map(
  Object.entries(SPECS).map(([name, spec]) => {
    const id = (BPF_FUNC as Record<string, number>)[name];
    return [id, { id, name, ...spec }];
  }),
);

/** helperProto returns the prototype of helper `id`, or undefined when the verifier does not know it. */
export function helperProto(id: number): HelperProto | undefined {
  return HELPER_PROTOS.get(id);
}

/**
 * MAP_ONLY_FUNCS lists, for map types that only work with particular helpers, which helpers
 * those are (the kernel's check_map_func_compatibility, map side). Plain maps accept the
 * generic map helpers.
 */
export const MAP_ONLY_FUNCS: ReadonlyMap<number, readonly string[]> = new Map([
  [PROG_ARRAY, ['tail_call']],
  [RINGBUF, ['ringbuf_output', 'ringbuf_reserve', 'ringbuf_query']],
  [QUEUE, ['map_push_elem', 'map_pop_elem', 'map_peek_elem']],
  [STACK, ['map_push_elem', 'map_pop_elem', 'map_peek_elem']],
  [BLOOM_FILTER, ['map_push_elem', 'map_peek_elem']],
  [DEVMAP, ['redirect_map', 'map_lookup_elem']],
  [DEVMAP_HASH, ['redirect_map', 'map_lookup_elem']],
  [CPUMAP, ['redirect_map']],
  [XSKMAP, ['redirect_map', 'map_lookup_elem']],
]);
