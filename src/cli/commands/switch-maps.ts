/**
 * Listing the maps of a running switch through its control socket: `tsbpf switch maps
 * --control PATH` and `tsbpf map dump control PATH [name NAME]` (bpftool's words; the maps are
 * the running program's, shared by every worker of a multi-worker switch).
 */
import { BpfError } from '../../core/errors.js';
import { controlRequest, type MapDump } from '../../switch/control.js';
import type { CliIo } from '../io.js';

/** formatMaps prints each map like `bpftool map dump`: "key: .. value: .." lines and a count. */
export function formatMaps(maps: MapDump[], header = true): string {
  if (maps.length === 0) return 'the running program has no maps\n';
  const spaced = (h: string) => h.replace(/(..)(?!$)/g, '$1 ');
  return maps.map((m) => (header ? `map ${m.name} (type ${m.type}, key ${m.keySize} B, value ${m.valueSize} B, max ${m.maxEntries}):\n` : '') +
    m.entries.map(([k, v]) => `key: ${spaced(k)}  value: ${spaced(v)}\n`).join('') +
    `Found ${m.entries.length} element${m.entries.length === 1 ? '' : 's'}\n`).join('\n');
}

/**
 * switchMapDump implements `tsbpf map dump control PATH [name NAME] [-j]`: the maps of the
 * switch listening on PATH (one map with `name`), as `bpftool map dump` prints them.
 */
export async function switchMapDump(args: string[], io: CliIo, json: boolean): Promise<number> {
  const [kw, path, nameKw, name] = args;
  if (kw !== 'control' || !path) throw new BpfError('EINVAL', 'usage: tsbpf map dump control PATH [name NAME]');
  if (nameKw !== undefined && (nameKw !== 'name' || !name)) throw new BpfError('EINVAL', `expected "name NAME" after the socket, not "${nameKw}"`);
  const all = (await controlRequest(path, { cmd: 'maps' })).maps as MapDump[];
  const maps = name === undefined ? all : all.filter((m) => m.name === name);
  if (name !== undefined && maps.length === 0) {
    throw new BpfError('ENOENT', `the running program has no map "${name}" (it has: ${all.map((m) => m.name).join(', ') || 'none'})`);
  }
  if (json) {
    const bytes = (h: string) => h.match(/../g)?.map((b) => `0x${b}`) ?? [];
    const one = (m: MapDump) => m.entries.map(([k, v]) => ({ key: bytes(k), value: bytes(v) }));
    io.stdout(`${JSON.stringify(name === undefined ? maps.map((m) => ({ name: m.name, entries: one(m) })) : one(maps[0]))}\n`);
  } else io.stdout(formatMaps(maps, name === undefined));
  return 0;
}
