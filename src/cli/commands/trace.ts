/**
 * `tsbpf trace FILE [prog run options]`: runs a program like `tsbpf prog run` and prints its
 * bpf_printk output on stdout in the kernel's trace_pipe layout (the program's own output,
 * e.g. --data-out -, stays where prog run puts it; its result line goes to stderr).
 */
import type { CliIo } from '../io.js';
import { progCommand } from './prog.js';
import { formatTracePipe } from '../../core/runtime/trace-pipe.js';

const USAGE = `Usage: tsbpf trace FILE [prog run options]
Runs FILE like "tsbpf prog run FILE ..." and prints each bpf_printk line as trace_pipe shows it:
  <comm>-<pid> [<cpu>] ..... <seconds>: bpf_trace_printk: <message>
`;

/** traceCommand implements `tsbpf trace`. */
export async function traceCommand(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    io.stdout(USAGE);
    return argv.length === 0 ? 1 : 0;
  }
  const t0 = globalThis.performance.now();
  const wrapped: CliIo = {
    ...io,
    stdout: (t) => io.stderr(t),
    stderr: (t) => {
      // prog run --trace reports each line as "trace: <message>\n"
      const lines = t.split('\n');
      const rest: string[] = [];
      for (const l of lines) {
        if (l.startsWith('trace: ')) {
          io.stdout(formatTracePipe({ message: l.slice(7), time: (globalThis.performance.now() - t0) / 1000, pid: 0, comm: 'tsbpf' }) + '\n');
        } else rest.push(l);
      }
      const r = rest.join('\n');
      if (r.trim()) io.stderr(r.endsWith('\n') ? r : r + '\n');
    },
  };
  const args = argv.includes('--trace') ? argv : [...argv, '--trace'];
  return progCommand(['run', ...args], wrapped);
}
