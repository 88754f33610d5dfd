/**
 * `tsbpf asm FILE [-o OUT]` assembles text to raw bytecode (hex on stdout without -o);
 * `tsbpf disasm FILE` prints llvm-objdump-style disassembly of bytecode or assembly.
 */
import { parseArgs } from 'node:util';
import { BpfError } from '../../core/errors.js';
import { encode, toHex } from '../../core/isa/index.js';
import { formatInsn, slotCount } from '../../core/asm/index.js';
import type { CliIo } from '../io.js';
import { readProgram } from '../program-input.js';

/** asmCommand implements `tsbpf asm`. */
export async function asmCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { output: { type: 'string', short: 'o' }, 'big-endian': { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw new BpfError('EINVAL', 'usage: tsbpf asm FILE [-o OUT] [--big-endian]');
  const prog = readProgram(positionals[0], io);
  const bytes = encode(prog, !values['big-endian']);
  if (values.output) io.writeFile(values.output, bytes);
  else io.stdout(prog.map((_, i) => toHex(bytes.subarray(i * 8, i * 8 + 8), ' ')).join('\n') + '\n');
  return 0;
}

/** disasmCommand implements `tsbpf disasm`. */
export async function disasmCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { raw: { type: 'boolean', default: false }, section: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new BpfError('EINVAL', 'usage: tsbpf disasm FILE [--section S] [--raw]');
  const prog = readProgram(positionals[0], io, values.section);
  const bytes = encode(prog);
  const out: string[] = [];
  for (let pc = 0; pc < prog.length; pc += slotCount(prog, pc)) {
    const raw = values.raw ? toHex(bytes.subarray(pc * 8, pc * 8 + slotCount(prog, pc) * 8), ' ') + '\t' : '';
    out.push(`${String(pc).padStart(5)}:\t${raw}${formatInsn(prog, pc)}`);
  }
  io.stdout(out.join('\n') + '\n');
  return 0;
}
