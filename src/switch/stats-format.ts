/**
 * Printing switch statistics: a per-port table (rx, tx, host, drops) followed by the non-zero
 * program verdicts and drop reasons, and the recent trace events.
 */
import { COUNTERS } from './dataplane/layout.js';
import type { Switch } from './dataplane/switch.js';

/** formatStats renders the switch's counters as text. */
export function formatStats(sw: Switch): string {
  const rows = sw.stats();
  const drops = (s: Record<string, number>) => COUNTERS.filter((c) => c.startsWith('drop_')).reduce((a, c) => a + s[c], 0);
  let out = 'port  name          ifindex          rx        tx      host     drops\n';
  for (const row of rows) {
    const s = row as unknown as Record<string, number> & { name: string };
    out += `${String(s.port).padEnd(6)}${s.name.padEnd(14)}${String(s.ifindex).padStart(7)}${String(s.rx_packets).padStart(12)}` +
      `${String(s.tx_packets).padStart(10)}${String(s.host_packets).padStart(10)}${String(drops(s)).padStart(10)}\n`;
    const detail = COUNTERS.filter((c) => (c.startsWith('act_') || c.startsWith('drop_')) && s[c] > 0).map((c) => `${c}=${s[c]}`);
    if (detail.length) out += `      ${detail.join(' ')}\n`;
  }
  for (const e of sw.trace.slice(-10)) {
    out += `trace: port ${e.port} ${e.reason}${e.r0 !== undefined ? ` r0=${e.r0}` : ''}${e.code ? ` ${e.code}` : ''}` +
      `${e.insn !== undefined ? ` insn ${e.insn}` : ''}${e.message ? `: ${e.message}` : ''}\n`;
  }
  return out;
}
