/**
 * Prog arrays and bpf_tail_call.
 *
 * A prog array is an array map whose elements hold program ids (0 = empty); user space
 * stores program fds (bpf_fd_array_map_update_elem: BPF_ANY only) and reads back ids.
 *
 * bpf_tail_call(ctx, map, index) follows the kernel's order: index >= max_entries -> no call;
 * 33 tail calls already made in this run (MAX_TAIL_CALL_CNT) -> no call; otherwise the count
 * goes up, and an empty slot -> no call. A failed tail call returns -ENOENT and the program
 * goes on. A successful one unwinds the running program (the helper throws a TailCall signal,
 * which the engines pass up as the cause of their E_HELPER error) and `runChain` starts the
 * target with r1 = ctx on the same CPU, stack fresh, like the kernel's jump into the target.
 * (A tail call from a bpf-to-bpf subprogram also replaces the whole run here; in the kernel it
 * returns to the subprogram's caller.)
 */
import { BpfError, isBpfError } from '../errors.js';
import { BPF_MAP_TYPE_PROG_ARRAY, E2BIG, EINVAL, ENOENT, H_MAX_ENTRIES, H_TYPE, H_VALUES, round8 } from '../maps/layout.js';
import type { LoadedProgram, RunOptions, RunResult } from '../vm/engine.js';
import { errnoError } from './errno.js';
import { mapPointer } from './helpers.js';
import type { MapInfo, Runtime } from './runtime.js';

/** MAX_TAIL_CALL_CNT is the kernel's limit of tail calls per run. */
export const MAX_TAIL_CALL_CNT = 33;

/** TailCall is the signal a successful bpf_tail_call throws. */
export class TailCall {
  constructor(readonly id: number, readonly ctx: bigint) {}
}

interface TailState {
  count: number;
  depth: number;
}

const states = new WeakMap<Runtime, TailState[]>();

function stateOf(rt: Runtime, cpu: number): TailState {
  let s = states.get(rt);
  if (!s) states.set(rt, (s = []));
  return (s[cpu] ??= { count: 0, depth: 0 });
}

/** tailCallOf finds a TailCall signal in what a run threw (directly or as an error's cause). */
export function tailCallOf(e: unknown): TailCall | undefined {
  if (e instanceof TailCall) return e;
  if (isBpfError(e) && e.cause instanceof TailCall) return e.cause;
  return undefined;
}

/** runChain runs `first` on `cpu` and then every program it tail-calls into; returns the last one's result. */
export function runChain(rt: Runtime, cpu: number, first: LoadedProgram, opts: RunOptions): RunResult {
  const st = stateOf(rt, cpu);
  if (st.depth === 0) st.count = 0;
  st.depth++;
  try {
    let cur = first, o = opts;
    for (;;) {
      try {
        return cur.run(o);
      } catch (e) {
        const tc = tailCallOf(e);
        if (!tc) throw e;
        const p = rt.progs.id(tc.id);
        if (!p) throw new BpfError('E_HELPER', `tail call into program ${tc.id}, which is gone`);
        cur = rt.progs.instance(p, rt.context(cpu));
        o = { ...o, args: [tc.ctx] };
      }
    }
  } finally {
    st.depth--;
  }
}

/** registerTailCall adds bpf_tail_call to the runtime's helpers. */
export function registerTailCall(rt: Runtime): void {
  rt.helpers.register('tail_call', (ctx, m, index, _4, _5, env) => {
    const hdr = mapPointer(rt, m);
    const dv = rt.space.dv;
    if (dv.getUint32(hdr + H_TYPE, true) !== BPF_MAP_TYPE_PROG_ARRAY) {
      throw new BpfError('E_HELPER', 'bpf_tail_call: map is not a prog array');
    }
    const i = Number(index & 0xffffffffn);
    const fail = BigInt.asUintN(64, BigInt(-ENOENT));
    if (i >= dv.getUint32(hdr + H_MAX_ENTRIES, true)) return fail;
    const st = stateOf(rt, env.cpu);
    if (st.count >= MAX_TAIL_CALL_CNT) return fail;
    st.count++;
    const id = dv.getUint32(dv.getUint32(hdr + H_VALUES, true) + i * 8, true);
    if (id === 0) return fail;
    throw new TailCall(id, ctx);
  });
}

// ---- user-space commands on prog arrays ------------------------------------------------

function slot(rt: Runtime, m: MapInfo, key: Uint8Array, cmd: string): number {
  const i = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
  if (i >= m.maxEntries) throw errnoError(cmd, -E2BIG);
  return m.values + i * round8(m.valueSize);
}

/** progArrayUpdate stores program fd `value` at index `key` (BPF_ANY only). */
export function progArrayUpdate(rt: Runtime, m: MapInfo, key: Uint8Array, value: Uint8Array, flags: number): void {
  if (flags !== 0) throw errnoError('BPF_MAP_UPDATE_ELEM', -EINVAL);
  const at = slot(rt, m, key, 'BPF_MAP_UPDATE_ELEM');
  const fd = new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true);
  const p = rt.progs.fd(fd);
  if (!p) {
    // an fd of another kind of object is EINVAL, no object at all EBADF (bpf_prog_get)
    if (rt.maps().some((x) => x.fd === fd)) throw errnoError('BPF_MAP_UPDATE_ELEM', -EINVAL);
    throw new BpfError('EBADF', `BPF_MAP_UPDATE_ELEM: fd ${fd} is not a program`);
  }
  rt.space.dv.setUint32(at, p.id, true);
}

/** progArrayLookup returns the id of the program at index `key` (ENOENT when empty). */
export function progArrayLookup(rt: Runtime, m: MapInfo, key: Uint8Array): Uint8Array {
  const i = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
  const id = i < m.maxEntries ? rt.space.dv.getUint32(m.values + i * 8, true) : 0;
  if (id === 0) throw errnoError('BPF_MAP_LOOKUP_ELEM', -ENOENT);
  return rt.space.read(m.values + i * 8, 4);
}

/** progArrayDelete empties index `key` (E2BIG out of range, ENOENT when already empty). */
export function progArrayDelete(rt: Runtime, m: MapInfo, key: Uint8Array): void {
  const at = slot(rt, m, key, 'BPF_MAP_DELETE_ELEM');
  if (rt.space.dv.getUint32(at, true) === 0) throw errnoError('BPF_MAP_DELETE_ELEM', -ENOENT);
  rt.space.dv.setUint32(at, 0, true);
}

/** progArrayIds lists the program ids held by the slots of every prog array of `rt`. */
export function progArrayIds(rt: Runtime): Set<number> {
  const ids = new Set<number>();
  const dv = rt.space.dv;
  for (const m of rt.maps()) {
    if (m.mapType !== BPF_MAP_TYPE_PROG_ARRAY) continue;
    for (let i = 0; i < m.maxEntries; i++) {
      const id = dv.getUint32(m.values + i * 8, true);
      if (id) ids.add(id);
    }
  }
  return ids;
}
