/**
 * Printing switch statistics: a per-port table (rx, tx, host, drops) followed by the non-zero
 * program verdicts and drop reasons, and the recent trace events. Works on a live switch or on
 * the snapshot a control socket returns.
 */
import { COUNTERS } from './dataplane/layout.js';
import type { Switch } from './dataplane/switch.js';
import type { TraceEvent } from './dataplane/dispatch.js';

/** StatsRow is one port's counters with its identity, as Switch.stats() returns them. */
export type StatsRow = Record<string, number | string>;

/** formatStats renders the switch's counters as text. */
export function formatStats(sw: Switch): string {
  return formatStatsRows(sw.stats() as unknown as StatsRow[], sw.trace);
}

/** formatStatsRows renders per-port counter rows and trace events as text. */
export function formatStatsRows(rows: StatsRow[], trace: TraceEvent[]): string {
  const num = (s: StatsRow, c: string) => Number(s[c] ?? 0);
  const drops = (s: StatsRow) => COUNTERS.filter((c) => c.startsWith('drop_')).reduce((a, c) => a + num(s, c), 0);
  let out = 'port  name          ifindex          rx        tx      host     drops\n';
  for (const s of rows) {
    out += `${String(s.port).padEnd(6)}${String(s.name).padEnd(14)}${String(s.ifindex).padStart(7)}${String(num(s, 'rx_packets')).padStart(12)}` +
      `${String(num(s, 'tx_packets')).padStart(10)}${String(num(s, 'host_packets')).padStart(10)}${String(drops(s)).padStart(10)}\n`;
    const detail = COUNTERS.filter((c) => (c.startsWith('act_') || c.startsWith('drop_')) && num(s, c) > 0).map((c) => `${c}=${num(s, c)}`);
    if (detail.length) out += `      ${detail.join(' ')}\n`;
  }
  for (const e of trace.slice(-10)) {
    out += `trace: port ${e.port} ${e.reason}${e.r0 !== undefined ? ` r0=${e.r0}` : ''}${e.code ? ` ${e.code}` : ''}` +
      `${e.insn !== undefined ? ` insn ${e.insn}` : ''}${e.message ? `: ${e.message}` : ''}\n`;
  }
  return out;
}
