/**
 * Messages between the main thread and switch workers. Each worker runs one shard of the
 * switch (every port's queue number = worker index, its own frame pool, state and execution
 * context with cpu = worker index) inside an arena of the shared address space the main
 * thread reserved for it, so nothing is allocated twice. Counters live in shared memory; the
 * main thread reads them directly.
 */
import type { SwitchProgram } from '../program.js';
import type { Program } from '../../core/isa/instruction.js';
import type { TraceEvent } from '../dataplane/dispatch.js';
import type { SharedMapInfo, SharedRuntimeInit } from '../../core/runtime/shared.js';

/**
 * WorkerMode: 'loop' recirculates frames port to port (benchmark); 'gen' generates into port 0
 * and counts what leaves; 'io' takes frames from the main thread's channels (the main thread
 * drives the real ports and deals frames to workers by RSS hash) and hands the frames each
 * port transmits back through channels.
 */
export type WorkerMode = 'loop' | 'gen' | 'io';

/**
 * Words of a worker's control block (Int32, in shared memory): CTL_STOP is set by the main
 * thread to stop; CTL_SEQ counts the worker's finished rounds; CTL_IDLE is the number of the
 * last round that found nothing to do and left nothing behind (io mode); CTL_BELL is bumped
 * (and notified) by the main thread when it queued frames or a request for the worker.
 */
export const CTL_STOP = 0, CTL_SEQ = 4, CTL_IDLE = 8, CTL_BELL = 12;

/** ShardInit configures one worker. */
export interface ShardInit {
  memory: WebAssembly.Memory;
  arena: [number, number];
  cpu: number;
  ports: number;
  prog: SwitchProgram;
  checked: boolean;
  dataplane?: 'wasm' | 'js';
  batch: number;
  frames: number;
  ringSize: number;
  mode: WorkerMode;
  /** this worker's flows (frames whose RSS hash selects it) */
  templates: Uint8Array[];
  /** loop mode: frames put in circulation per port */
  inflight: number;
  /** address of the worker's control word (Int32: 0 run, 1 stop) */
  control: number;
  /** io mode: per port, the channel (ring address) frames arrive on and the one transmitted frames leave by */
  io?: { in: number[]; out: number[] };
  /** programs with maps: the shared runtime to attach to (the arena is its) and its maps */
  runtime?: { init: SharedRuntimeInit; maps: SharedMapInfo[] };
}

/** ShardReady is the worker's answer once its shard exists: where its counters are. */
export interface ShardReady {
  type: 'ready';
  /** per port: address of its u64 counters */
  counters: number[];
  /** address of two u64 generator totals (frames sent, frames received: gen mode) and the thread's CPU ticks (u32) */
  totals: number;
}

/** WorkerRequest is what the main thread sends while a worker runs. */
export type WorkerRequest = { type: 'swap'; prog: SwitchProgram; id: number; maps?: SharedMapInfo[] } |
  { type: 'programs'; progs: Array<{ id: number; insns: Program }>; id: number };

/** WorkerReply answers a request, reports trace events (aborts, faults, bad verdicts: in batches) or the end of the run. */
export type WorkerReply = { type: 'swapped'; id: number; error?: string } | { type: 'done' } | ShardReady | { type: 'error'; message: string } |
  { type: 'trace'; events: TraceEvent[] };
