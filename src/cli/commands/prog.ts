/**
 * `tsbpf prog run|dump`: run a program like `bpftool prog run` (raw programs get r1 = data,
 * r2 = length; XDP programs get an xdp_md whose packet is the data), and print the
 * instructions of a program with its source lines like `bpftool prog dump xlated`.
 */
import { parseArgs } from 'node:util';
import { BpfError } from '../../core/errors.js';
import { toHex } from '../../core/isa/index.js';
import { formatInsn, slotCount } from '../../core/asm/index.js';
import { createVmContext, dataBuffer, PERM_RW, xdpRunOptions, type RunOptions, type VmContext } from '../../core/vm/index.js';
import { DEFAULT_ENGINE, loadEngine } from '../engines.js';
import type { CliIo } from '../io.js';
import { readProgramInput, type ProgramInput } from '../program-input.js';

const USAGE = `Usage: tsbpf prog run FILE [--section S] [--engine jit|interp] [--data-in FILE] [--data-out FILE|-]
                     [--repeat N] [--budget N] [--unchecked] [--json]
       tsbpf prog dump xlated FILE [--section S] [--opcodes]
FILE is assembly text (.s/.asm), raw little-endian bytecode (.bin), hex (.hex) or a clang-compiled
ELF object (.o; --section picks the program by section or function name).
A raw program gets r1 = pointer to the data buffer (data_in, or empty) and r2 = its length;
an XDP program gets r1 = xdp_md whose packet is data_in.
`;

/** progCommand dispatches `tsbpf prog SUBCOMMAND`. */
export async function progCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'run':
      return progRun(rest, io);
    case 'dump':
      return progDump(rest, io);
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

/** runOptionsFor places `data` in the context the way the program's type expects. */
function runOptionsFor(input: ProgramInput, ctx: VmContext, data: Uint8Array, budget?: number): { opts: RunOptions; addr: number } {
  if (input.spec && input.spec.relocations.length > 0) {
    throw new BpfError('ENOSYS', `${input.name} uses maps or global data; prog run cannot create live maps yet`);
  }
  // XDP frames get headroom in front so data_meta/adjust_head have room, as in the kernel
  const headroom = input.type === 'xdp' ? 256 : 0;
  const base = dataBuffer(ctx, headroom + data.length);
  const addr = base + headroom;
  ctx.space.write(addr, data);
  if (input.type === 'xdp') return { opts: xdpRunOptions(ctx, { data: addr, len: data.length }, budget), addr };
  if (input.type !== 'raw') {
    throw new BpfError('ENOSYS', `prog run supports raw and xdp programs so far, not ${input.type}`);
  }
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
      json: { type: 'boolean', short: 'j', default: false },
    },
  });
  if (positionals.length !== 1) throw new BpfError('EINVAL', `prog run takes one FILE\n${USAGE}`);
  const repeat = parseCount(values.repeat, 'repeat');
  const budget = values.budget === undefined ? undefined : parseCount(values.budget, 'budget');
  const input = readProgramInput(positionals[0], io, values.section);
  const dataIn = values['data-in'] ? io.readFile(values['data-in']) : new Uint8Array(0);
  const engine = await loadEngine(values.engine);
  const ctx = createVmContext();
  const loaded = engine.load(input.prog, ctx, { checked: !values.unchecked });
  const { opts, addr } = runOptionsFor(input, ctx, dataIn, budget);
  let r0 = 0n;
  const t0 = performance.now();
  for (let i = 0; i < repeat; i++) r0 = loaded.run(opts).r0;
  const durationNs = Math.round(((performance.now() - t0) * 1e6) / repeat);
  const dataOut = ctx.space.read(addr, dataIn.length);
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
