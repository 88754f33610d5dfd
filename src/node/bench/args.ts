/**
 * Command-line options of the map benchmark, shared by bench/maps.ts and `tsbpf bench maps`.
 */
import { BpfError } from '../../core/errors.js';
import { MAP_TYPES, type MapBenchOptions } from './maps.js';

/** MAP_BENCH_USAGE describes the options. */
export const MAP_BENCH_USAGE = `Usage: tsbpf bench maps [--json] [--user|--program] [--map NAME]... [--passes N]
  maps: ${Object.keys(MAP_TYPES).join(', ')}
`;

/** parseMapBenchArgs reads the options; unknown ones are EINVAL. */
export function parseMapBenchArgs(argv: string[]): { json: boolean; opts: MapBenchOptions } {
  const opts: MapBenchOptions = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json' || a === '-j') json = true;
    else if (a === '--user') opts.places = ['user'];
    else if (a === '--program') opts.places = ['program'];
    else if (a === '--map') {
      const m = argv[++i];
      if (!m || !(m in MAP_TYPES)) throw new BpfError('EINVAL', `--map: expected one of ${Object.keys(MAP_TYPES).join(', ')}`);
      (opts.maps ??= []).push(m);
    } else if (a === '--passes') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new BpfError('EINVAL', '--passes: expected a positive integer');
      opts.passes = n;
    } else throw new BpfError('EINVAL', `unknown option ${a}\n${MAP_BENCH_USAGE}`);
  }
  return { json, opts };
}
