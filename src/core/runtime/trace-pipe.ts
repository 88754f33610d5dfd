/**
 * TracePipe: bpf_printk (bpf_trace_printk) output of a runtime's programs as a stream of
 * lines, like /sys/kernel/tracing/trace_pipe: `read()` drains what is buffered, `for await
 * (const line of pipe)` waits for new lines until `close()`. Lines carry the CPU and a
 * timestamp; `formatTracePipe` renders them as the kernel's trace_pipe does
 * ("<comm>-<pid> [cpu] ..... <secs>: bpf_trace_printk: <message>").
 */
import { addTraceSink, registerLoaderHelpers } from './loader-helpers.js';
import { currentTask } from './misc-helpers.js';
import type { Runtime } from './runtime.js';

/** TraceLine is one bpf_printk line. */
export interface TraceLine {
  /** the formatted message (without the trailing newline) */
  message: string;
  /** seconds since the pipe was opened */
  time: number;
  pid: number;
  comm: string;
}

/** TracePipe collects a runtime's trace lines. */
export class TracePipe implements AsyncIterable<TraceLine> {
  private readonly lines: TraceLine[] = [];
  private waiters: Array<() => void> = [];
  private closed = false;
  private readonly t0 = globalThis.performance.now();

  constructor(private readonly rt: Runtime, readonly limit = 1 << 16) {
    // a plain runtime gets bpf_trace_printk here (the ELF loader registers it for objects)
    if (!rt.helpers.has(6)) registerLoaderHelpers(rt);
    addTraceSink(rt, (message) => this.push(message));
  }

  private push(message: string): void {
    if (this.closed) return;
    const t = currentTask(this.rt);
    for (const m of message.split('\n')) {
      this.lines.push({ message: m, time: (globalThis.performance.now() - this.t0) / 1000, pid: t.pid, comm: t.comm });
    }
    // like the kernel's ring buffer, the oldest lines go when nobody reads
    if (this.lines.length > this.limit) this.lines.splice(0, this.lines.length - this.limit);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** read returns and removes the buffered lines. */
  read(): TraceLine[] {
    return this.lines.splice(0);
  }

  /** close ends iteration (pending waits return) and stops collecting. */
  close(): void {
    this.closed = true;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TraceLine> {
    for (;;) {
      while (this.lines.length) yield this.lines.shift()!;
      if (this.closed) return;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

/** formatTracePipe renders a line in the kernel's trace_pipe layout. */
export function formatTracePipe(l: TraceLine, cpu = 0): string {
  const task = `${l.comm}-${l.pid}`;
  return `${task.padStart(22)} [${String(cpu).padStart(3, '0')}] ..... ${l.time.toFixed(6).padStart(12)}: bpf_trace_printk: ${l.message}`;
}
