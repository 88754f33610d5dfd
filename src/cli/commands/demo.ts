/**
 * `tsbpf demo`: the README's main job for now: assemble an example program (Fibonacci and
 * FNV-1a over a data buffer), show its disassembly, run it in every engine and print results.
 */
import { assemble, disassemble } from '../../core/asm/index.js';
import { createVmContext, runRaw } from '../../core/vm/index.js';
import { ENGINE_NAMES, loadEngine } from '../engines.js';
import type { CliIo } from '../io.js';
import { demoSwitch } from './demo-switch.js';

/** DEMO_SOURCE computes the FNV-1a hash of the data buffer (r1 = data, r2 = length). */
export const DEMO_SOURCE = `
  # FNV-1a (32-bit) over the data buffer: r1 = data, r2 = length
  w0 = -2128831035          # offset basis 0x811c9dc5
  r3 = 0
loop:
  if r3 >= r2 goto done
  r4 = r1
  r4 += r3
  r5 = *(u8 *)(r4 + 0)
  w0 ^= w5
  w0 *= 16777619            # FNV prime
  r3 += 1
  goto loop
done:
  exit
`;

/** demoCommand implements `tsbpf demo`. */
export async function demoCommand(_argv: string[], io: CliIo): Promise<number> {
  if (_argv[0] === 'switch') return demoSwitch(_argv.slice(1), io);
  const prog = assemble(DEMO_SOURCE);
  io.stdout('Program (FNV-1a over the data buffer):\n');
  io.stdout(disassemble(prog).map((l, i) => `  ${l}`).join('\n') + '\n');
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
