/**
 * The map examples in the switch (objects loaded with their maps by the loader): learning
 * bridge (hash map + devmap-hash redirect and broadcast + per-CPU histogram), flow counter
 * (LRU hash), ACL firewall (LPM trie), L4 load balancer (array maps, MAC rewrite). Which
 * frames leave which port, byte for byte, and what the maps hold afterwards, in every loop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switch } from '../../src/switch/dataplane/switch.js';
import { buildUdpFrame, parseMac } from '../../src/switch/dataplane/frames.js';
import { dumpMaps, switchObject, type SwitchObject } from '../../src/switch/objects.js';
import { drain, exampleBytes, MODES, type Mode } from './util.js';
import type { BpfMap, PerCpuMap } from '../../src/core/runtime/map.js';

function setup(name: string, ports: number, mode: Mode): { sw: Switch; o: SwitchObject } {
  const o = switchObject(exampleBytes(name));
  const sw = new Switch({ ports, ...mode.opts, runtime: o.runtime });
  sw.attach(o.prog);
  return { sw, o };
}

function udp(src: string, dst: string, o: { sip?: number; dip?: number; sport?: number; dport?: number; size?: number; tag?: number } = {}): Uint8Array {
  return buildUdpFrame({ srcMac: parseMac(src), dstMac: parseMac(dst), srcIp: o.sip ?? 0x0a000001, dstIp: o.dip ?? 0x0a000002,
    srcPort: o.sport ?? 1000, dstPort: o.dport ?? 2000, size: o.size ?? 60, fill: o.tag ?? 0 });
}

const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** one receives a frame on a port and runs the switch until idle. */
function one(sw: Switch, port: number, f: Uint8Array): void {
  assert.ok(sw.receive(port, f));
  sw.run();
}

for (const mode of MODES) {
  test(`learning_bridge: learns, forwards known MACs, floods unknown and broadcast through the devmap (${mode.label})`, () => {
    const { sw, o } = setup('learning_bridge', 3, mode);
    const txPorts = o.coll.maps.tx_ports as BpfMap;
    for (const p of sw.ports) txPorts.set(u32(p.ifindex), u32(p.ifindex));
    const A = udp('02:00:00:00:00:0a', '02:00:00:00:00:0b', { tag: 1 });
    const B = udp('02:00:00:00:00:0b', '02:00:00:00:00:0a', { tag: 2 });
    const C = udp('02:00:00:00:00:0a', '02:00:00:00:00:0b', { tag: 3, size: 200 });
    const D = udp('02:00:00:00:00:0c', 'ff:ff:ff:ff:ff:ff', { tag: 4 });
    const E = udp('02:00:00:00:00:0a', '02:00:00:00:00:0a', { tag: 5 });
    one(sw, 0, A); // unknown: flooded to ports 1 and 2
    one(sw, 1, B); // 0a was learned on ifindex 1
    one(sw, 0, C); // 0b was learned on ifindex 2
    one(sw, 2, D); // broadcast: every other port
    one(sw, 0, E); // destination on the ingress port: dropped
    assert.deepEqual(drain(sw), [[B, D], [A, C, D], [A]]);
    const table = Object.fromEntries(dumpMaps(o.coll).find((m) => m.name === 'mac_table')!.entries);
    assert.deepEqual(table, { '02000000000a': '01000000', '02000000000b': '02000000', '02000000000c': '03000000' });
    const hist = o.coll.maps.size_log2 as PerCpuMap;
    assert.equal(new DataView(hist.get(u32(5))![0].buffer).getBigUint64(0, true), 4n, 'four frames of 32..63 bytes');
    assert.equal(new DataView(hist.get(u32(7))![0].buffer).getBigUint64(0, true), 1n, 'one of 128..255');
    assert.equal(sw.stats()[0].drop_program, 1);
    // the control plane takes port 2 out of the devmap: floods reach port 1 only from the next step
    txPorts.delete(u32(3));
    const F = udp('02:00:00:00:00:0a', '02:00:00:00:00:77', { tag: 6 });
    one(sw, 0, F);
    assert.deepEqual(drain(sw), [[], [F], []]);
    assert.equal(sw.pool.available(), sw.pool.count);
  });

  test(`flow_counter: counts packets and bytes per 5-tuple in an LRU hash, forwards i -> i^1 (${mode.label})`, () => {
    const { sw, o } = setup('flow_counter', 2, mode);
    const f1 = udp('02:00:00:00:00:01', '02:00:00:00:00:02', { sport: 1111, size: 60 });
    const f2 = udp('02:00:00:00:00:01', '02:00:00:00:00:02', { sport: 1111, size: 100 });
    const f3 = udp('02:00:00:00:00:02', '02:00:00:00:00:01', { sip: 0x0a000002, dip: 0x0a000001, sport: 2000, dport: 1111, size: 80 });
    const arp = Uint8Array.from([...parseMac('ff:ff:ff:ff:ff:ff'), ...parseMac('02:00:00:00:00:01'), 0x08, 0x06, ...new Array(46).fill(0)]);
    one(sw, 0, f1);
    one(sw, 0, f2);
    one(sw, 1, f3);
    one(sw, 0, arp);
    assert.deepEqual(drain(sw), [[f3], [f1, f2, arp]]);
    const flows = Object.fromEntries(dumpMaps(o.coll)[0].entries);
    const key = (sip: string, dip: string, sport: number, dport: number) =>
      `${sip}${dip}${sport.toString(16).padStart(4, '0')}${dport.toString(16).padStart(4, '0')}11000000`;
    const val = (p: number, b: number) => hex(new Uint8Array(new BigUint64Array([BigInt(p), BigInt(b)]).buffer));
    assert.deepEqual(flows, { [key('0a000001', '0a000002', 1111, 2000)]: val(2, 160), [key('0a000002', '0a000001', 2000, 1111)]: val(1, 80) });
  });

  test(`acl_firewall: longest matching prefix decides, the rest is forwarded (${mode.label})`, () => {
    const { sw, o } = setup('acl_firewall', 2, mode);
    const acl = o.coll.maps.acl as BpfMap;
    const lpmKey = (len: number, a: number, b: number, c: number, d: number) => Uint8Array.from([...u32(len), a, b, c, d]);
    acl.set(lpmKey(16, 10, 1, 0, 0), u32(1)); // drop 10.1/16
    acl.set(lpmKey(24, 10, 1, 2, 0), u32(0)); // but allow 10.1.2/24
    const dropped = udp('02:00:00:00:00:01', '02:00:00:00:00:02', { sip: 0x0a010505 });
    const allowed = udp('02:00:00:00:00:01', '02:00:00:00:00:02', { sip: 0x0a010203 });
    const other = udp('02:00:00:00:00:01', '02:00:00:00:00:02', { sip: 0x0a020001 });
    const runt = new Uint8Array(20).fill(2);
    for (const f of [dropped, allowed, other, runt]) one(sw, 0, f);
    one(sw, 1, dropped);
    assert.deepEqual(drain(sw), [[], [allowed, other]]);
    assert.equal(sw.stats()[0].drop_program, 2);
    assert.equal(sw.stats()[1].drop_program, 1);
  });

  test(`l4_lb: consistent-hash table picks the backend, MAC rewritten, redirected (${mode.label})`, () => {
    const { sw, o } = setup('l4_lb', 3, mode);
    const lut = o.coll.maps.lut as BpfMap, backends = o.coll.maps.backends as BpfMap;
    const macs = ['02:00:00:00:00:b1', '02:00:00:00:00:b2'];
    backends.set(u32(1), Uint8Array.from([...u32(2), ...parseMac(macs[0]), 0, 0]));
    backends.set(u32(2), Uint8Array.from([...u32(3), ...parseMac(macs[1]), 0, 0]));
    for (let i = 0; i < 256; i++) lut.set(u32(i), u32((i % 2) + 1));
    const mix = (h: number, v: number) => {
      h = Math.imul((h ^ v) >>> 0, 0x9e3779b1) >>> 0;
      return (h ^ (h >>> 15)) >>> 0;
    };
    // the program hashes the header words as loaded on a little-endian machine
    const le = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset).getUint32(off, true);
    const want: Uint8Array[][] = [[], [], []];
    for (let k = 0; k < 12; k++) {
      const f = udp('02:00:00:00:00:01', '02:00:00:00:00:ff', { sip: 0x0a000001 + k * 0x00010203, sport: 5000 + k * 257, tag: k });
      const ports = ((le(f, 34) & 0xffff) << 16 | (le(f, 34) >>> 16)) >>> 0;
      const slot = mix(mix(mix(0, le(f, 26)), le(f, 30)), ports) % 256;
      const b = (slot % 2) + 1;
      const out = Uint8Array.from(f);
      out.set(parseMac(macs[b - 1]), 0);
      want[b].push(out);
      one(sw, 0, f);
    }
    assert.ok(want[1].length > 0 && want[2].length > 0, 'flows spread over both backends');
    assert.deepEqual(drain(sw), want);
    const host: Uint8Array[] = [];
    const sw2 = new Switch({ ports: 3, ...mode.opts, runtime: o.runtime, onHost: (_p, fr) => host.push(fr) });
    sw2.attach(o.prog);
    const notUdp = Uint8Array.from([...parseMac('02:00:00:00:00:ff'), ...parseMac('02:00:00:00:00:01'), 0x86, 0xdd, ...new Array(60).fill(1)]);
    one(sw2, 0, notUdp);
    assert.deepEqual(host, [notUdp], 'non-IPv4/UDP frames go to the host (XDP_PASS)');
  });
}
