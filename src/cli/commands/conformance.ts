/**
 * `tsbpf conformance-plugin [--engine E] [MEMORY_HEX]`: the plugin protocol of the public eBPF
 * conformance runner. The program arrives as hex bytes on stdin; MEMORY_HEX is its data
 * (r1 = pointer, r2 = length). Prints r0 as hex and exits 0, or prints the error and exits 1.
 */
import { parseArgs } from 'node:util';
import { decode, fromHex } from '../../core/isa/index.js';
import { createVmContext, runRaw } from '../../core/vm/index.js';
import { DEFAULT_ENGINE, loadEngine } from '../engines.js';
import type { CliIo } from '../io.js';

/** conformancePlugin implements `tsbpf conformance-plugin`. */
export async function conformancePlugin(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { engine: { type: 'string', default: DEFAULT_ENGINE }, unchecked: { type: 'boolean', default: false } },
  });
  const memory = fromHex(positionals.join(''));
  const prog = decode(fromHex(new TextDecoder().decode(io.readStdin())));
  const engine = await loadEngine(String(values.engine));
  const res = runRaw(engine, prog, memory, createVmContext(), { checked: !values.unchecked });
  io.stdout(res.r0.toString(16) + '\n');
  return 0;
}
