/**
 * Map benchmark (`npm run bench:maps`, also `tsbpf bench maps`): tsbpf's maps side by side
 * with the kernel's, user space and in programs. See src/node/bench/maps.ts.
 * `node dist/bench/maps.js [--json] [--user|--program] [--map NAME]... [--passes N]`
 */
import { formatMapBench, runMapBench } from '../src/node/bench/maps.js';
import { parseMapBenchArgs } from '../src/node/bench/args.js';

const { json, opts } = parseMapBenchArgs(process.argv.slice(2));
const r = runMapBench(opts);
process.stdout.write(json ? `${JSON.stringify(r, null, 2)}\n` : formatMapBench(r));
