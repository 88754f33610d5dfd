/**
 * Shared helpers of the switch tests: example objects, frames, draining ports.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { CliIo } from '../../src/cli/io.js';
import { join } from 'node:path';
import { programFromObject, type SwitchProgram } from '../../src/switch/program.js';
import { buildUdpFrame, parseMac } from '../../src/switch/dataplane/frames.js';
import type { Switch } from '../../src/switch/dataplane/switch.js';

/** example loads examples/switch/NAME.o. */
export function example(name: string): SwitchProgram {
  return programFromObject(new Uint8Array(readFileSync(join('examples', 'switch', `${name}.o`))));
}

/** exampleBytes reads examples/switch/NAME.o. */
export function exampleBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join('examples', 'switch', `${name}.o`)));
}

/** frame builds a distinct UDP frame to `dst` tagged by `tag` (in the source port and payload). */
export function frame(dst: string, tag: number, size = 60): Uint8Array {
  return buildUdpFrame({
    dstMac: parseMac(dst), srcMac: parseMac('02:00:00:00:00:fe'), srcIp: 0x0a000001, dstIp: 0x0a000002,
    srcPort: 1000 + tag, dstPort: 2000, size, fill: tag & 0xff,
  });
}

/** drain returns copies of every frame waiting on each port's TX ring. */
export function drain(sw: Switch): Uint8Array[][] {
  return sw.ports.map((_, p) => {
    const out: Uint8Array[] = [];
    sw.transmit(p, (f) => out.push(f.slice()));
    return out;
  });
}

import { jit } from '../../src/core/jit/index.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import type { SwitchOptions } from '../../src/switch/dataplane/switch.js';

/** Mode is an engine + dataplane combination every behaviour test runs under. */
export interface Mode {
  label: string;
  opts: Pick<SwitchOptions, 'engine' | 'dataplane' | 'checked'>;
}

/** MODES: the Wasm loop over the JIT, the JS loop over the JIT, the JS loop over the interpreter. */
export const MODES: Mode[] = [
  { label: 'jit+wasm', opts: { engine: jit, dataplane: 'wasm' } },
  { label: 'jit+js', opts: { engine: jit, dataplane: 'js' } },
  { label: 'interp+js', opts: { engine: interpreter, dataplane: 'js' } },
];

/** memoryIo is a CliIo that collects output in `out`/`err` and uses the real files. */
export function memoryIo(): CliIo & { out: string; err: string } {
  const o = { out: '', err: '' } as CliIo & { out: string; err: string };
  o.stdout = (t) => void (o.out += t);
  o.stderr = (t) => void (o.err += t);
  o.readFile = (p) => new Uint8Array(readFileSync(p));
  o.writeFile = (p, d) => writeFileSync(p, d);
  o.readStdin = () => new Uint8Array(0);
  return o;
}
