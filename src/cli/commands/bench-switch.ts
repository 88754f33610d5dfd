/**
 * `tsbpf bench switch [--prog OBJ [--section S] [--kind xdp|vale]] [--json] [--quick] [--workers N]`:
 * runs the switch benchmark (bench/switch.ts, compiled next to the CLI in dist/) in a child
 * Node process, so its worker threads and its timing are not disturbed by the CLI's own state,
 * and prints its table or JSON.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfError } from '../../core/errors.js';
import type { CliIo } from '../io.js';

/** switchBenchCommand implements `tsbpf bench switch`. */
export function switchBenchCommand(argv: string[], io: CliIo): number {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'switch.js');
  if (!existsSync(script)) throw new BpfError('ENOENT', `the switch benchmark is not built (${script}); run npm run build`);
  const r = spawnSync(process.execPath, [script, ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.stdout) io.stdout(r.stdout);
  if (r.stderr) io.stderr(r.stderr);
  if (r.error) throw new BpfError('E_IO', `cannot run the switch benchmark: ${r.error.message}`);
  return r.status ?? 1;
}
