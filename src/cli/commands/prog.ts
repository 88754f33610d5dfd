/**
 * `tsbpf prog run FILE [--engine E] [--data-in F] [--data-out F] [--repeat N] [--json]`:
 * runs a raw program (r1 = data buffer, r2 = its length) like `bpftool prog run`.
 */
import { parseArgs } from 'node:util';
import { BpfError } from '../../core/errors.js';
import { toHex } from '../../core/isa/index.js';
import { createVmContext, dataBuffer, PERM_RW } from '../../core/vm/index.js';
import { DEFAULT_ENGINE, loadEngine } from '../engines.js';
import type { CliIo } from '../io.js';
import { readProgram } from '../program-input.js';

const USAGE = `Usage: tsbpf prog run FILE [--engine jit|interp] [--data-in FILE] [--data-out FILE|-]
                     [--repeat N] [--budget N] [--unchecked] [--json]
FILE is assembly text (.s/.asm), raw little-endian bytecode (.bin) or hex (.hex).
The program gets r1 = pointer to the data buffer (data_in, or empty) and r2 = its length.
`;

/** progCommand dispatches `tsbpf prog SUBCOMMAND`. */
export async function progCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'run':
      return progRun(rest, io);
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

/** progRun implements `tsbpf prog run`. */
export async function progRun(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
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
  const prog = readProgram(positionals[0], io);
  const dataIn = values['data-in'] ? io.readFile(values['data-in']) : new Uint8Array(0);
  const engine = await loadEngine(values.engine);
  const ctx = createVmContext();
  const loaded = engine.load(prog, ctx, { checked: !values.unchecked });
  const addr = dataBuffer(ctx, dataIn.length);
  ctx.space.write(addr, dataIn);
  const opts = {
    args: [BigInt(addr), BigInt(dataIn.length)],
    regions: [{ start: addr, end: addr + dataIn.length, perm: PERM_RW, name: 'data' }],
    packet: { start: addr, len: dataIn.length },
    budget,
  };
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

/** parseCount parses a positive integer option. */
export function parseCount(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new BpfError('EINVAL', `--${name} must be a positive integer, got "${text}"`);
  return n;
}
