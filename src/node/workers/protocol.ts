/**
 * Messages between a WorkerPool (the owner thread) and its workers. Everything is
 * structured-cloneable: programs as Insn arrays, register values as BigInts, errors as
 * { code, message, context } re-thrown as BpfError by the owner.
 */
import type { ErrorCode, ErrorContext } from '../../core/errors.js';
import type { SharedMapInfo, SharedProgram } from '../../core/runtime/shared.js';

/** RunRequest runs a loaded program `repeat` times on the worker's CPU. */
export interface RunRequest {
  op: 'run';
  prog: number;
  repeat: number;
  /** r1..r5 (ignored when `data` is given) */
  args?: bigint[];
  /** a data buffer: r1 = its address, r2 = its length, also the LD_ABS packet */
  data?: Uint8Array;
  budget?: number;
}

/** CommandRequest runs user-space map commands in the worker (commands.ts names), in order. */
export interface CommandRequest {
  op: 'commands';
  maps: SharedMapInfo[];
  list: Array<{ name: 'update' | 'delete' | 'lookup'; fd: number; key: Uint8Array; value?: Uint8Array; flags?: number }>;
}

/** RequestBody is a request without its id. */
export type RequestBody = { op: 'load'; maps: SharedMapInfo[]; prog: SharedProgram } | RunRequest | CommandRequest;

/** Request is what the owner posts (with a request id). */
export type Request = { id: number } & RequestBody;

/** RunReply is the result of a run request: r0 of the last run. */
export interface RunReply {
  cpu: number;
  r0: bigint;
  runs: number;
  /** wall time of all runs in the worker, nanoseconds */
  ns: number;
  /** lookups' values (commands), null when missing */
  values?: Array<Uint8Array | null>;
}

/** Reply is what a worker posts back. */
export type Reply = { id: number } & (
  | { ok: true; result: RunReply }
  | { ok: false; error: { code: ErrorCode; message: string; context: ErrorContext } }
);
