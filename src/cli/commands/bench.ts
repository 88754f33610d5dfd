/**
 * `tsbpf bench maps [--json] ...`: the map benchmark (tsbpf's maps vs the kernel's, user
 * space and in programs), as `npm run bench:maps` runs it.
 */
import { BpfError } from '../../core/errors.js';
import type { CliIo } from '../io.js';
import { switchBenchCommand } from './bench-switch.js';
import { MAP_BENCH_USAGE, parseMapBenchArgs } from '../../node/bench/args.js';
import { formatMapBench, runMapBench } from '../../node/bench/maps.js';

/** benchCommand runs a benchmark subcommand (`maps`) and prints its table or JSON. */
export async function benchCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help') {
    io.stdout(MAP_BENCH_USAGE);
    return sub === undefined ? 1 : 0;
  }
  if (sub === 'switch') return switchBenchCommand(rest, io);
  if (sub !== 'maps') throw new BpfError('EINVAL', `unknown benchmark "${sub}" (expected: maps, switch)`);
  const { json, opts } = parseMapBenchArgs(rest);
  const r = runMapBench(opts);
  io.stdout(json ? `${JSON.stringify(r, null, 2)}\n` : formatMapBench(r));
  return 0;
}
