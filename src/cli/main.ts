/**
 * The tsbpf command line: bpftool words where they exist. Dispatches the first word to a
 * command handler; every error is printed as "Error: ..." with a non-zero exit, never a crash.
 */
import { isBpfError } from '../core/errors.js';
import { processIo, type CliIo, type CommandHandler } from './io.js';

const HELP = `Usage: tsbpf COMMAND ...

Commands:
  asm FILE [-o OUT]                 assemble eBPF text (llvm-objdump or ubpf syntax)
  disasm FILE                       print the llvm-objdump-style disassembly of a program
  prog run FILE [options]           run a program (see: tsbpf prog help)
  prog dump xlated FILE [--section S]
                                    instructions with source lines (ELF objects with BTF)
  prog load|loadall FILE [PIN] [pinmaps DIR]
                                    load (and verify, pin) an object's or C file's programs
  prog show [PATH...]               pinned programs
  map dump|lookup|update|delete|getnext (pinned PATH | name NAME) ...
                                    maps in bpftool's format (-j for JSON)
  btf dump file FILE                the BTF types of an object, as bpftool prints them
  cbpf disasm|check|run|convert|compile ...
                                    classic BPF (tcpdump -d/-dd/-ddd forms) and its conversion to eBPF
  pcap filter EXPR IN [-w OUT] [--count]
                                    filter a pcap/pcapng capture with a pcap-filter expression
  switch --port SPEC ... --prog FILE [--section S]
                                    run a software switch whose forwarding logic is an XDP/VALE-BPF program
  pktgen [options]                  generate frames at full speed, print Mpps and Gbps
  trace FILE [prog run options]     run a program and print its bpf_printk output like trace_pipe
  bench maps [--json]               map operations side by side with the kernel
  conformance-plugin [--engine E] MEMORY_HEX
                                    plugin for the eBPF conformance runner (program hex on stdin)
  demo                              assemble and run an example program
  help                              this text
`;

/** lazy imports one command module on first use, so starting the CLI loads only what runs. */
function lazy(load: () => Promise<Record<string, unknown>>, name: string): CommandHandler {
  return async (argv, io) => ((await load())[name] as CommandHandler)(argv, io);
}

const COMMANDS: Record<string, CommandHandler> = {
  asm: lazy(() => import('./commands/asm.js'), 'asmCommand'),
  disasm: lazy(() => import('./commands/asm.js'), 'disasmCommand'),
  prog: lazy(() => import('./commands/prog.js'), 'progCommand'),
  map: lazy(() => import('./commands/map.js'), 'mapCommand'),
  btf: lazy(() => import('./commands/btf.js'), 'btfCommand'),
  cbpf: lazy(() => import('./commands/cbpf.js'), 'cbpfCommand'),
  pcap: lazy(() => import('./commands/pcap.js'), 'pcapCommand'),
  switch: lazy(() => import('./commands/switch.js'), 'switchCommand'),
  pktgen: lazy(() => import('./commands/pktgen.js'), 'pktgenCommand'),
  bench: lazy(() => import('./commands/bench.js'), 'benchCommand'),
  trace: lazy(() => import('./commands/trace.js'), 'traceCommand'),
  'conformance-plugin': lazy(() => import('./commands/conformance.js'), 'conformancePlugin'),
  demo: lazy(() => import('./commands/demo.js'), 'demoCommand'),
};

/** registerCommand adds a command handler (used to plug in commands from other parts). */
export function registerCommand(name: string, handler: CommandHandler): void {
  COMMANDS[name] = handler;
}

/** main runs the CLI with `argv` (without node and script) and returns the exit status. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.stdout(HELP);
    return cmd === undefined ? 1 : 0;
  }
  const handler = COMMANDS[cmd];
  if (!handler) {
    io.stderr(`Error: unknown command "${cmd}"\n${HELP}`);
    return 1;
  }
  try {
    return await handler(rest, io);
  } catch (e) {
    io.stderr(`Error: ${describe(e)}\n`);
    return isBpfError(e) ? 2 : 3;
  }
}

function describe(e: unknown): string {
  if (isBpfError(e)) return `${e.message} [${e.code}]`;
  if (e instanceof Error) return (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? e.message : e.message;
  return String(e);
}
