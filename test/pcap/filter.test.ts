/**
 * The filter compiler without tcpdump: hand-built packets against primitives, the vlan offset
 * rule, long programs needing jump trampolines, and bad expressions reported with their column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCbpf, runCbpf } from '../../src/core/cbpf/index.js';
import { compileFilter } from '../../src/core/pcap-filter/index.js';
import { isBpfError } from '../../src/core/errors.js';

/** eth builds an Ethernet frame with optional VLAN tags. */
function eth(type: number, payload: number[], vlans: number[] = []): Uint8Array {
  const tags = vlans.flatMap((v) => [0x81, 0x00, v >> 8, v & 0xff]);
  return Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...tags, type >> 8, type & 0xff, ...payload]);
}

function ipv4(proto: number, src: number[], dst: number[], l4: number[], frag = 0): number[] {
  return [0x45, 0, 0, 20 + l4.length, 0, 0, frag >> 8, frag & 0xff, 64, proto, 0, 0, ...src, ...dst, ...l4];
}

const tcp = (sport: number, dport: number, flags: number) =>
  [sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, flags, 0, 0, 0, 0, 0, 0];

const match = (expr: string, pkt: Uint8Array): boolean => {
  const prog = compileFilter(expr);
  checkCbpf(prog);
  return runCbpf(prog, pkt) !== 0;
};

test('primitives on hand-built packets', () => {
  const syn = eth(0x0800, ipv4(6, [10, 0, 0, 1], [192, 168, 1, 9], tcp(1234, 80, 0x02)));
  assert.ok(match('tcp port 80', syn));
  assert.ok(match('src host 10.0.0.1 and dst net 192.168.0.0/16', syn));
  assert.ok(!match('dst host 10.0.0.1', syn));
  assert.ok(match('tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn', syn));
  assert.ok(!match('udp', syn));
  assert.ok(match('portrange 1000-2000', syn));
  assert.ok(match('ether src 06:07:08:09:0a:0b', syn));
  const frag = eth(0x0800, ipv4(6, [10, 0, 0, 1], [10, 0, 0, 2], tcp(1234, 80, 0x02), 0x0010));
  assert.ok(match('tcp', frag), 'a later fragment is still tcp');
  assert.ok(!match('port 80', frag), 'but has no ports');
  assert.ok(!match('tcp[13] = 2', frag));
});

test('vlan moves the offsets of everything after it', () => {
  const tagged = eth(0x0800, ipv4(17, [1, 1, 1, 1], [2, 2, 2, 2], [0, 53, 0, 53, 0, 8, 0, 0]), [10]);
  assert.ok(match('vlan 10 and udp port 53', tagged));
  assert.ok(!match('udp port 53 and vlan 10', tagged), 'udp before vlan looks at the untagged offsets');
  assert.ok(!match('vlan 11', tagged));
  const qinq = eth(0x0800, ipv4(17, [1, 1, 1, 1], [2, 2, 2, 2], [0, 53, 0, 53, 0, 8, 0, 0]), [7, 10]);
  assert.ok(match('vlan 7 and vlan 10 and host 2.2.2.2', qinq));
});

test('long or-chains compile with trampolines and stay correct', () => {
  const hosts = Array.from({ length: 120 }, (_, i) => `net 10.${i}.0.0/16`).join(' or ');
  const prog = compileFilter(hosts);
  assert.ok(prog.length > 256);
  checkCbpf(prog);
  const pkt = (b: number) => eth(0x0800, ipv4(6, [10, b, 3, 4], [9, 9, 9, 9], tcp(1, 2, 0)));
  assert.notEqual(runCbpf(prog, pkt(119)), 0);
  assert.notEqual(runCbpf(prog, pkt(0)), 0);
  assert.equal(runCbpf(prog, pkt(200)), 0);
});

test('bad expressions: a clear message with the column', () => {
  const cases: [string, number, RegExp][] = [
    ['tcp and', 8, /end of expression/],
    ['host 10.0.0.1 or (udp', 22, /expected "\)"/],
    ['port 99999', 6, /port number/],
    ['tcp[13] & 2 !=', 15, /number or packet field/],
    ['ip[1:3] = 1', 6, /1, 2 or 4/],
    ['host foo.example', 6, /host names are not resolved/],
    ['net 10.0.0.1/8', 5, /non-network bits/],
    ['vlan 5000', 6, /greater than maximum/],
    ['ip[0] / 0 = 1', 7, /division by zero/],
    ['tcp $ udp', 5, /unexpected character/],
    ['udp port ssh', 10, /not a udp service/],
    ['gateway 10.0.0.1', 1, /--via-tcpdump/],
    ['ether proto 100', 13, /802\.3/],
    ['tcp host 10.0.0.1', 10, /cannot be applied/],
    ['(tcp or) and udp', 8, /expected a primitive/],
    ['ip[0] 5', 7, /comparison/],
  ];
  for (const [expr, col, msg] of cases) {
    assert.throws(() => compileFilter(expr), (e: unknown) => {
      assert.ok(isBpfError(e), `${expr}: ${String(e)}`);
      assert.equal(e.context.column, col, `${expr}: ${e.message}`);
      assert.match(e.message, msg, expr);
      return true;
    });
  }
});

test('the empty expression accepts everything', () => {
  assert.notEqual(runCbpf(compileFilter(''), new Uint8Array(0)), 0);
});

test('capture filters match frames inside a larger buffer without reading past them', async () => {
  const { createCaptureFilter } = await import('../../src/core/pcap-filter/index.js');
  const frame = eth(0x0800, ipv4(6, [10, 0, 0, 1], [10, 0, 0, 2], tcp(5, 80, 0x12)));
  const ring = new Uint8Array(4096).fill(0x45);
  ring.set(frame, 1000);
  const f = createCaptureFilter('tcp dst port 80 and tcp[tcpflags] & tcp-ack != 0');
  assert.equal(f(ring, 1000, frame.length), true);
  assert.equal(f(ring, 1000, 40), false, 'the port lies beyond the given length');
  assert.equal(createCaptureFilter('udp')(ring, 1000, frame.length), false);
});
