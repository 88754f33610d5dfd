/**
 * `tsbpf demo`: assemble an example program (FNV-1a over a data buffer, examples/fnv1a.s), show
 * its disassembly, run it in every engine and print the results; `tsbpf demo switch` runs the
 * learning-bridge switch demo.
 */
import { fileURLToPath } from 'node:url';
import { assemble, disassemble } from '../../core/asm/index.js';
import { createVmContext, runRaw } from '../../core/vm/index.js';
import { ENGINE_NAMES, loadEngine } from '../engines.js';
import type { CliIo } from '../io.js';
import { demoSwitch } from './demo-switch.js';

/** DEMO_FILE is the example the demo runs: FNV-1a over the data buffer (r1 = data, r2 = length). */
export const DEMO_FILE = fileURLToPath(new URL('../../../../examples/fnv1a.s', import.meta.url));

/** demoCommand implements `tsbpf demo`. */
export async function demoCommand(_argv: string[], io: CliIo): Promise<number> {
  if (_argv[0] === 'switch') return demoSwitch(_argv.slice(1), io);
  const prog = assemble(new TextDecoder().decode(io.readFile(DEMO_FILE)));
  io.stdout('Program examples/fnv1a.s (FNV-1a over the data buffer):\n');
  io.stdout(disassemble(prog).map((l) => `  ${l}`).join('\n') + '\n');
  const data = new TextEncoder().encode('hello, eBPF');
  io.stdout(`Data: "hello, eBPF" (${data.length} bytes)\n`);
  for (const name of ENGINE_NAMES) {
    let engine;
    try {
      engine = await loadEngine(name);
    } catch (e) {
      io.stdout(`  ${name.padEnd(6)} not available: ${(e as Error).message}\n`);
      continue;
    }
    const res = runRaw(engine, prog, data, createVmContext());
    io.stdout(`  ${name.padEnd(6)} r0 = 0x${res.r0.toString(16)} (${res.steps} instructions)\n`);
  }
  return 0;
}
