/**
 * `tsbpf prog run|dump|load|loadall|show`: run a program like `bpftool prog run` (raw
 * programs get r1 = data, r2 = length; ELF objects are loaded with their maps and global
 * data, and each program gets the context of its type), print the instructions of a program
 * with its source lines like `bpftool prog dump xlated`, and load/pin/list programs
 * (prog-load.ts).
 */
import { parseArgs } from 'node:util';
import { BpfError } from '../../core/errors.js';
import { toHex } from '../../core/isa/index.js';
import { formatInsn, slotCount } from '../../core/asm/index.js';
import { createVmContext, dataBuffer, PERM_RW, type Engine, type LoadedProgram, type RunOptions, type RunResult, type VmContext } from '../../core/vm/index.js';
import { DEFAULT_ENGINE, loadEngine } from '../engines.js';
import type { CliIo } from '../io.js';
import { readProgramInput, readFileChecked, isElf, type ProgramInput } from '../program-input.js';
import { progLoad, progLoadAll, progShow, loadFileObject, pinOptions } from './prog-load.js';
import { syncPins } from '../../core/runtime/pin.js';

const USAGE = `Usage: tsbpf prog run FILE [--section S] [--engine jit|interp] [--data-in FILE] [--data-out FILE|-]
                     [--repeat N] [--budget N] [--checked|--unchecked] [--json] [--no-verify] [--trace] [--debug]
                     [--pin-root DIR]
       tsbpf prog dump xlated FILE [--section S] [--opcodes]
       tsbpf prog load FILE [--section S] [PIN] [pinmaps DIR] [--no-verify] [--log-level N] [--engine E]
       tsbpf prog loadall FILE [PINDIR] [pinmaps DIR] [--no-verify] [--log-level N] [--engine E]
       tsbpf prog show [PATH...]
FILE is assembly text (.s/.asm), raw little-endian bytecode (.bin), hex (.hex), a clang-compiled
ELF object (.o; --section picks the program by section or function name) or, for run and load,
C source (.c, compiled with the system's clang).
A raw program gets r1 = pointer to the data buffer (data_in, or empty) and r2 = its length;
an object's program is loaded with its maps and global data and gets the context of its type:
XDP an xdp_md whose packet is data_in, socket filter/tc/cgroup_skb a __sk_buff, other types
data_in as their context. Maps pinned by name (LIBBPF_PIN_BY_NAME) are reused from and saved
to --pin-root (default $TSBPF_PIN_ROOT or <tmpdir>/tsbpf-pins).
An object's programs the verifier accepts run in trusted mode (no per-access checks); the
others, and all with --no-verify or --checked, run in checked mode. --debug prints the mode.
`;

/** progCommand dispatches `tsbpf prog SUBCOMMAND`. */
export async function progCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'run':
      return progRun(rest, io);
    case 'dump':
      return progDump(rest, io);
    case 'load':
      return progLoad(rest, io);
    case 'loadall':
      return progLoadAll(rest, io);
    case 'show':
    case 'list':
      return progShow(rest, io);
    case undefined:
    case 'help':
    case '--help':
      io.stdout(USAGE);
      return sub === undefined ? 1 : 0;
    default:
      io.stderr(`Error: unknown prog subcommand "${sub}"\n${USAGE}`);
      return 1;
  }
}

/** runOptionsFor places `data` in the context of a raw program: r1 = data, r2 = length. */
function runOptionsFor(ctx: VmContext, data: Uint8Array, budget?: number): { opts: RunOptions; addr: number } {
  const addr = dataBuffer(ctx, data.length);
  ctx.space.write(addr, data);
  return {
    addr,
    opts: {
      args: [BigInt(addr), BigInt(data.length)],
      regions: [{ start: addr, end: addr + data.length, perm: PERM_RW, name: 'data' }],
      packet: { start: addr, len: data.length },
      budget,
    },
  };
}

/** progRun implements `tsbpf prog run`. */
export async function progRun(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      section: { type: 'string' },
      engine: { type: 'string', default: DEFAULT_ENGINE },
      'data-in': { type: 'string' },
      'data-out': { type: 'string' },
      repeat: { type: 'string', default: '1' },
      budget: { type: 'string' },
      unchecked: { type: 'boolean', default: false },
      checked: { type: 'boolean', default: false },
      debug: { type: 'boolean', default: false },
      json: { type: 'boolean', short: 'j', default: false },
      'no-verify': { type: 'boolean', default: false },
      trace: { type: 'boolean', default: false },
      'pin-root': { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new BpfError('EINVAL', `prog run takes one FILE\n${USAGE}`);
  const repeat = parseCount(values.repeat, 'repeat');
  const budget = values.budget === undefined ? undefined : parseCount(values.budget, 'budget');
  const dataIn = values['data-in'] ? io.readFile(values['data-in']) : new Uint8Array(0);
  const engine = await loadEngine(values.engine);
  const file = positionals[0];
  const bytes = readFileChecked(file, io);
  let r: { r0: bigint; durationNs: number; dataOut: Uint8Array };
  if (isElf(bytes) || file.endsWith('.c')) {
    const { coll } = await loadFileObject(file, bytes, {
      one: true, section: values.section, engine, checked: explicitMode(values), verify: values['no-verify'] ? false : undefined,
      pins: pinOptions(values['pin-root']), trace: values.trace ? (l) => io.stderr(`trace: ${l}\n`) : undefined,
    });
    const prog = Object.values(coll.programs)[0];
    if (values.debug) io.stderr(`debug: ${prog.name} runs in ${prog.checked ? 'checked' : 'trusted'} mode\n`);
    const res = prog.run({ data: dataIn, repeat, budget });
    syncPins(coll.rt);
    r = { r0: res.retval, durationNs: res.durationNs, dataOut: res.dataOut };
  } else {
    if (values.debug) io.stderr(`debug: raw program runs in ${values.unchecked ? 'trusted' : 'checked'} mode (not verified)\n`);
    r = runRawInput(readProgramInput(file, io, values.section), engine, dataIn, repeat, budget, !values.unchecked);
  }
  const { r0, durationNs, dataOut } = r;
  if (values['data-out'] && values['data-out'] !== '-') io.writeFile(values['data-out'], dataOut);
  if (values.json) {
    const out: Record<string, unknown> = { retval: r0.toString(), duration_ns: durationNs };
    if (values['data-out']) out.data_out = toHex(dataOut);
    io.stdout(JSON.stringify(out) + '\n');
  } else {
    io.stdout(`Return value: ${r0}, duration${repeat > 1 ? ' (average)' : ''}: ${durationNs}ns\n`);
    if (values['data-out'] === '-') io.stdout(`data_out: ${toHex(dataOut, ' ')}\n`);
  }
  return 0;
}

/** explicitMode is the mode the user asked for: --checked, --unchecked, or undefined (trusted when verified). */
function explicitMode(v: { checked: boolean; unchecked: boolean }): boolean | undefined {
  if (v.checked && v.unchecked) throw new BpfError('EINVAL', '--checked and --unchecked exclude each other');
  return v.checked ? true : v.unchecked ? false : undefined;
}

function runRawInput(input: ProgramInput, engine: Engine, dataIn: Uint8Array, repeat: number, budget: number | undefined, checked: boolean) {
  const ctx = createVmContext();
  const loaded = engine.load(input.prog, ctx, { checked });
  const { opts, addr } = runOptionsFor(ctx, dataIn, budget);
  let r0 = 0n;
  const t0 = performance.now();
  // the JIT repeats inside WebAssembly (one call for all runs, like BPF_PROG_TEST_RUN's repeat)
  if (repeat > 1 && hasRepeat(loaded)) r0 = loaded.repeat(repeat, opts).r0;
  else for (let i = 0; i < repeat; i++) r0 = loaded.run(opts).r0;
  const durationNs = Math.round(((performance.now() - t0) * 1e6) / repeat);
  return { r0, durationNs, dataOut: ctx.space.read(addr, dataIn.length) };
}

/** hasRepeat tells whether a loaded program runs repeats itself (JitProgram.repeat). */
function hasRepeat(l: LoadedProgram): l is LoadedProgram & { repeat(n: number, opts: RunOptions): RunResult } {
  return typeof (l as { repeat?: unknown }).repeat === 'function';
}

/** progDump implements `tsbpf prog dump xlated FILE`: instructions with source lines. */
export async function progDump(argv: string[], io: CliIo): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind !== 'xlated') throw new BpfError('EINVAL', `prog dump supports "xlated"\n${USAGE}`);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { section: { type: 'string' }, opcodes: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw new BpfError('EINVAL', `prog dump xlated takes one FILE\n${USAGE}`);
  const input = readProgramInput(positionals[0], io, values.section);
  io.stdout(formatXlated(input, values.opcodes).join('\n') + '\n');
  return 0;
}

/** formatXlated prints a program like bpftool's `prog dump xlated linum`: function headers and source lines. */
export function formatXlated(input: ProgramInput, opcodes = false): string[] {
  const prog = input.prog;
  const lines = new Map((input.spec?.lineInfo ?? []).map((l) => [l.insn, l]));
  const funcs = new Map((input.spec?.subprograms ?? []).map((s) => [s.insn, s.name] as [number, string]));
  const out: string[] = [];
  for (let pc = 0; pc < prog.length; pc += slotCount(prog, pc)) {
    const fn = pc === 0 ? input.name : funcs.get(pc);
    if (fn !== undefined) out.push(`${fn}:`);
    const li = lines.get(pc);
    if (li) out.push(`; ${li.line.trim()} [${li.file}:${li.lineNo}:${li.column}]`);
    const code = prog[pc].code.toString(16).padStart(2, '0');
    const raw = opcodes ? `\t${rawBytes(input, pc)}` : '';
    out.push(`${String(pc).padStart(4)}: (${code}) ${formatInsn(prog, pc)}${raw}`);
  }
  return out;
}

function rawBytes(input: ProgramInput, pc: number): string {
  const i = input.prog[pc];
  const b = [i.code, (i.src << 4) | i.dst, i.off & 0xff, (i.off >> 8) & 0xff, i.imm & 0xff, (i.imm >> 8) & 0xff, (i.imm >> 16) & 0xff, (i.imm >>> 24) & 0xff];
  return toHex(new Uint8Array(b), ' ');
}

/** parseCount parses a positive integer option. */
export function parseCount(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new BpfError('EINVAL', `--${name} must be a positive integer, got "${text}"`);
  return n;
}
