/**
 * VXLAN ports over loopback UDP without root: datagrams (RFC 7348 header, VNI) sent to one
 * switch port come out of the other, re-encapsulated with that port's VNI, byte for byte;
 * wrong VNIs, missing I flags and short datagrams are counted drops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { jit } from '../../src/core/jit/index.js';
import { Switch } from '../../src/switch/dataplane/switch.js';
import { LiveSwitch } from '../../src/switch/live.js';
import { decapVxlan, encapVxlan, parseVxlanSpec, VxlanPort } from '../../src/switch/ports/vxlan.js';
import { example, frame } from './util.js';

test('encapVxlan / decapVxlan / parseVxlanSpec', () => {
  const f = frame('02:00:00:00:00:01', 1);
  const d = encapVxlan(f, 0x123456);
  assert.deepEqual([...d.subarray(0, 8)], [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]);
  assert.deepEqual(new Uint8Array(decapVxlan(d, 0x123456)!), f);
  assert.equal(decapVxlan(d, 7), null);
  assert.equal(decapVxlan(d.subarray(0, 20), 0x123456), null);
  assert.deepEqual(parseVxlanSpec('4790:127.0.0.1:4789:42'), { localHost: '127.0.0.1', localPort: 4790, remoteHost: '127.0.0.1', remotePort: 4789, vni: 42 });
  assert.throws(() => parseVxlanSpec('4790:127.0.0.1:4789:99999999'), /24 bits/);
});

test('frames cross the switch between two VXLAN ports (loopback UDP)', async () => {
  const peers = [createSocket('udp4'), createSocket('udp4')];
  await Promise.all(peers.map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))));
  const sw = new Switch({ ports: 2, engine: jit });
  sw.attach(example('vale_nologic'));
  const drivers = [0, 1].map((i) => new VxlanPort(sw, i, { localPort: 0, remotePort: peers[i].address().port, vni: 100 + i }));
  await Promise.all(drivers.map((d) => d.bind()));
  const live = new LiveSwitch(sw, drivers);
  live.start();
  try {
    const ports = drivers.map((d) => d.address().port);
    const f = frame('02:00:00:00:00:02', 7, 300);
    const got = once(peers[1], 'message');
    peers[0].send(encapVxlan(f, 999), ports[0], '127.0.0.1'); // wrong VNI: dropped
    const bad = Buffer.from(encapVxlan(f, 100));
    bad[0] = 0;
    peers[0].send(bad, ports[0], '127.0.0.1'); // no I flag: dropped
    peers[0].send(encapVxlan(f, 100), ports[0], '127.0.0.1');
    const [msg] = (await got) as [Buffer];
    assert.deepEqual(new Uint8Array(msg), new Uint8Array(encapVxlan(f, 101)));
    assert.equal(sw.stats()[0].drop_bad_frame, 2);
    assert.equal(sw.stats()[1].tx_packets, 1);
  } finally {
    await live.stop();
    for (const s of peers) s.close();
  }
});
