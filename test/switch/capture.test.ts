/**
 * The capture filter on switch ports: `--capture PORT:EXPR:FILE` records the frames a port
 * receives that match a pcap-filter expression, checked against our reader and `tcpdump -r`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { switchCommand } from '../../src/cli/commands/switch.js';
import { readCapture, writePcap } from '../../src/core/pcap/index.js';
import { frame, memoryIo } from './util.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-capture-'));

const io = memoryIo;

test('switch --capture keeps exactly the received frames that match the expression', async () => {
  // source ports 1001..1010; the filter keeps src ports 1003..1006
  const frames = Array.from({ length: 10 }, (_, i) => frame('02:00:00:00:00:02', i + 1, 60 + i * 10));
  writeFileSync(join(dir, 'in.pcap'), writePcap(frames.map((data) => ({ data }))));
  const cap = join(dir, 'cap.pcap');
  const t = io();
  const rc = await switchCommand(['--prog', 'examples/switch/xdp_l2_static.o', '--port', `in=${join(dir, 'in.pcap')}`,
    '--port', 'null', '--port', 'null', '--capture', `0:udp src portrange 1003-1006:${cap}`], t);
  assert.equal(rc, 0, t.err);
  const got = readCapture(new Uint8Array(readFileSync(cap))).packets.map((p) => [...p.data]);
  assert.deepEqual(got, frames.slice(2, 6).map((f) => [...f]));
  const td = spawnSync('tcpdump', ['-r', cap, '-n'], { encoding: 'utf8' });
  if (td.status === 0) assert.equal(td.stdout.trim().split('\n').length, 4);
});

test('switch --capture rejects a bad spec or a missing port with a clear error', async () => {
  await assert.rejects(switchCommand(['--port', 'null', '--capture', 'nonsense'], io()), /expected PORT:EXPR:FILE/);
  await assert.rejects(switchCommand(['--port', 'null', '--capture', `5:tcp:${join(dir, 'x.pcap')}`], io()), /names port 5/);
});
