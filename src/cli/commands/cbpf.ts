/**
 * `tsbpf cbpf ...`: classic BPF programs in tcpdump's text forms (-d, -dd, -ddd).
 *   cbpf disasm FILE [--format d|dd|ddd]      read any form, check it, print it in another
 *   cbpf check FILE                           apply the kernel's classic checker
 *   cbpf run FILE (--data HEX | --pcap IN) [--engine ref|js|interp|jit] [--meta k=v,...] [--wire-len N]
 *   cbpf convert FILE [-o OUT]                convert to eBPF (disassembly, or raw bytes with -o)
 *   cbpf compile EXPR [--format d|dd|ddd] [--via-tcpdump]   compile a pcap-filter expression
 */
import { parseArgs } from 'node:util';
import { BpfError } from '../../core/errors.js';
import { checkCbpf, compileCbpfToJs, convertCbpf, formatCbpf, loadConverted, parseCbpf, runCbpf, META_FIELDS } from '../../core/cbpf/index.js';
import type { CbpfMeta, CbpfProgram, CbpfTextFormat } from '../../core/cbpf/index.js';
import { encode, fromHex } from '../../core/isa/index.js';
import { disassemble } from '../../core/asm/index.js';
import { readCapture } from '../../core/pcap/index.js';
import { loadEngine } from '../engines.js';
import type { CliIo } from '../io.js';
import { compileExpression } from './pcap-filter.js';

const USAGE = `Usage: tsbpf cbpf COMMAND ...
  disasm FILE [--format d|dd|ddd]        print a classic program (tcpdump -d/-dd/-ddd forms)
  check FILE                             check a classic program with the kernel's rules
  run FILE (--data HEX | --pcap IN) [--engine ref|js|interp|jit] [--meta k=v,...] [--wire-len N]
                                         run it over one packet, or count matches in a capture
  convert FILE [-o OUT]                  convert to eBPF (disassembly, or raw bytes with -o)
  compile EXPR [--format d|dd|ddd] [--via-tcpdump]
                                         compile a pcap-filter expression to classic BPF
`;

/** cbpfCommand implements `tsbpf cbpf`. */
export async function cbpfCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'disasm': return disasm(rest, io);
    case 'check': return check(rest, io);
    case 'run': return run(rest, io);
    case 'convert': return convert(rest, io);
    case 'compile': return compile(rest, io);
    case undefined:
    case 'help':
      io.stdout(USAGE);
      return sub ? 0 : 1;
    default:
      io.stderr(`Error: unknown cbpf command "${sub}"\n${USAGE}`);
      return 1;
  }
}

function readCbpf(path: string, io: CliIo): CbpfProgram {
  const text = new TextDecoder().decode(io.readFile(path));
  try {
    return parseCbpf(text);
  } catch (e) {
    throw e instanceof BpfError ? e.withContext({ file: path }) : e;
  }
}

function formatOf(v: string | undefined): CbpfTextFormat {
  const f = v ?? 'd';
  if (f !== 'd' && f !== 'dd' && f !== 'ddd') throw new BpfError('EINVAL', `unknown format "${f}" (expected d, dd or ddd)`);
  return f;
}

async function disasm(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { format: { type: 'string' } } });
  if (positionals.length !== 1) throw new BpfError('EINVAL', 'usage: tsbpf cbpf disasm FILE [--format d|dd|ddd]');
  const prog = readCbpf(positionals[0], io);
  io.stdout(formatCbpf(prog, formatOf(values.format)));
  return 0;
}

async function check(argv: string[], io: CliIo): Promise<number> {
  if (argv.length !== 1) throw new BpfError('EINVAL', 'usage: tsbpf cbpf check FILE');
  const prog = readCbpf(argv[0], io);
  checkCbpf(prog);
  io.stdout(`ok: ${prog.length} instructions\n`);
  return 0;
}

/** parseMeta reads "protocol=0x800,ifindex=2" into CbpfMeta fields. */
export function parseMeta(text: string): Partial<CbpfMeta> {
  const meta: Partial<CbpfMeta> = {};
  for (const part of text.split(',').filter((p) => p.trim() !== '')) {
    const [k, v] = part.split('=').map((s) => s.trim());
    const field = META_FIELDS.find((f) => f.toLowerCase() === k.toLowerCase());
    const n = Number(v);
    if (!field || v === undefined || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      throw new BpfError('EINVAL', `bad --meta entry "${part}" (fields: ${META_FIELDS.join(', ')})`);
    }
    meta[field] = n;
  }
  return meta;
}

/**
 * verdictFn returns a function running `prog` with the chosen engine: "ref" (the reference
 * classic interpreter), "js" (classic program compiled to JavaScript), or an eBPF engine
 * ("jit", "interp") running the converted program.
 */
export async function verdictFn(prog: CbpfProgram, engine: string): Promise<(data: Uint8Array, wireLen: number, meta?: Partial<CbpfMeta>) => number> {
  checkCbpf(prog);
  if (engine === 'ref') return (data, wireLen, meta) => runCbpf(prog, data, { wireLen, meta });
  if (engine === 'js') return compileCbpfToJs(prog);
  const f = loadConverted(await loadEngine(engine), convertCbpf(prog), undefined, { checked: false });
  return (data, wireLen, meta) => f.run(data, { wireLen, meta });
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      data: { type: 'string' }, pcap: { type: 'string' }, engine: { type: 'string', default: 'ref' },
      meta: { type: 'string' }, 'wire-len': { type: 'string' },
    },
  });
  if (positionals.length !== 1 || (values.data === undefined) === (values.pcap === undefined)) {
    throw new BpfError('EINVAL', 'usage: tsbpf cbpf run FILE (--data HEX | --pcap IN) [--engine ref|js|interp|jit] [--meta k=v,...]');
  }
  const verdict = await verdictFn(readCbpf(positionals[0], io), values.engine!);
  const meta = values.meta !== undefined ? parseMeta(values.meta) : undefined;
  if (values.data !== undefined) {
    const data = fromHex(values.data);
    const wire = values['wire-len'] !== undefined ? Number(values['wire-len']) : data.length;
    io.stdout(`${verdict(data, wire, meta)}\n`);
    return 0;
  }
  const cap = readCapture(io.readFile(values.pcap!), { lenient: true });
  if (cap.warning) io.stderr(`warning: ${cap.warning.message}\n`);
  const n = cap.packets.filter((p) => verdict(p.data, p.origLen, meta) !== 0).length;
  io.stdout(`${n} of ${cap.packets.length} packets accepted\n`);
  return 0;
}

async function convert(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { output: { type: 'string', short: 'o' } } });
  if (positionals.length !== 1) throw new BpfError('EINVAL', 'usage: tsbpf cbpf convert FILE [-o OUT]');
  const ebpf = convertCbpf(readCbpf(positionals[0], io));
  if (values.output) io.writeFile(values.output, encode(ebpf));
  else io.stdout(disassemble(ebpf).join('\n') + '\n');
  return 0;
}

async function compile(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { format: { type: 'string' }, 'via-tcpdump': { type: 'boolean', default: false } },
  });
  if (positionals.length < 1) throw new BpfError('EINVAL', 'usage: tsbpf cbpf compile EXPR [--format d|dd|ddd] [--via-tcpdump]');
  const prog = compileExpression(positionals.join(' '), 1, values['via-tcpdump']!);
  io.stdout(formatCbpf(prog, formatOf(values.format)));
  return 0;
}
