/**
 * `tsbpf pcap ...`: the entry the CLI loads. In a real process it runs the command
 * (pcap-filter.ts) from the startup cache when the cache is fresh: one script and a V8 code
 * cache instead of ~60 module files, which cost more than filtering a million packets.
 * Otherwise it imports the real modules and, after the run, builds the cache for the next one.
 */
import { fileURLToPath } from 'node:url';
import { StartupCache } from '../../node/pcap/startup-cache.js';
import { processIo, type CliIo } from '../io.js';

type Impl = typeof import('./pcap-filter.js');
type Io = typeof import('../io.js');

/** pcapCache is the startup cache of the pcap command (its implementation and the io module it compares with). */
export function pcapCache(dir?: string): StartupCache {
  const file = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));
  return new StartupCache('pcap', [file('./pcap-filter.js'), file('../io.js')], dir);
}

/** pcapCommand implements `tsbpf pcap` (see pcap-filter.ts). */
export async function pcapCommand(argv: string[], io: CliIo): Promise<number> {
  if (io !== processIo) return (await import('./pcap-filter.js')).pcapCommand(argv, io);
  const cache = pcapCache();
  const hit = cache.load();
  if (hit) {
    const [impl, ioModule] = hit.exports as [Impl, Io];
    try {
      return await impl.pcapCommand(argv, ioModule.processIo);
    } finally {
      hit.done();
    }
  }
  const status = await (await import('./pcap-filter.js')).pcapCommand(argv, io);
  await cache.build();
  return status;
}
