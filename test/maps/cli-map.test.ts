/**
 * `tsbpf map ...` against bpftool: the same maps (one pinned by tsbpf, one created and pinned
 * in bpffs by bpftool), the same update/delete/lookup/getnext/dump command lines, and the
 * outputs (plain and -j) must be the same text (hash maps: the same lines, in any order).
 * Skipped when bpftool or bpffs is unavailable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapCommand } from '../../src/cli/commands/map.js';
import type { CliIo } from '../../src/cli/io.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { pinMap } from '../../src/core/runtime/pin.js';
import { fileStore } from '../../src/node/pin/index.js';
import { possibleCpus } from './kernel-util.js';

const BPFTOOL = '/usr/sbin/bpftool';

function bpftoolOk(): string | null {
  if (!existsSync(BPFTOOL)) return 'bpftool not installed';
  if (!existsSync('/sys/fs/bpf')) return 'bpffs not mounted';
  try {
    execFileSync(BPFTOOL, ['version'], { stdio: 'pipe' });
    return null;
  } catch (e) {
    return `bpftool fails: ${(e as Error).message}`;
  }
}

async function ours(argv: string[]): Promise<{ out: string; code: number }> {
  let out = '';
  const io: CliIo = {
    stdout: (t) => void (out += t), stderr: (t) => void (out += t),
    readFile: () => new Uint8Array(0), writeFile: () => undefined, readStdin: () => new Uint8Array(0),
  };
  const code = await mapCommand(argv, io);
  return { out, code };
}

function theirs(argv: string[]): { out: string; code: number } {
  try {
    return { out: execFileSync(BPFTOOL, argv, { stdio: 'pipe' }).toString(), code: 0 };
  } catch (e) {
    const x = e as { stdout: Buffer; stderr: Buffer; status: number };
    return { out: x.stdout.toString() + x.stderr.toString(), code: x.status };
  }
}

const kinds = [
  { name: 'array', type: 2, key: 4, value: 8, entries: 3, updates: [['key', '1', '0', '0', '0', 'value', '0x11', '2', '3', '4', '5', '6', '7', '8']] },
  { name: 'hash', type: 1, key: 4, value: 4, entries: 8, updates: [['key', 'hex', '0a', '00', '00', '01', 'value', '1', '2', '3', '4'], ['key', '7', '0', '0', '0', 'value', '9', '9', '9', '9', 'noexist']] },
  { name: 'percpu_array', type: 6, key: 4, value: 20, entries: 2, updates: [['key', '1', '0', '0', '0', 'value', ...Array(20).fill('3')]] },
  { name: 'hash', type: 1, key: 20, value: 2, entries: 4, updates: [['key', ...Array(20).fill('0x7f'), 'value', '1', '2']] },
];

test('tsbpf map prints what bpftool prints for the same maps and commands', async (t) => {
  const why = bpftoolOk();
  if (why) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cli-map-'));
  try {
    for (const [i, kd] of kinds.entries()) {
      const kpath = `/sys/fs/bpf/tsbpf_cli_test_${process.pid}_${i}`;
      const opath = join(dir, `m${i}`);
      theirs(['map', 'create', kpath, 'type', kd.name, 'key', String(kd.key), 'value', String(kd.value), 'entries', String(kd.entries), 'name', `t${i}`]);
      try {
        const rt = new Runtime({ cpus: possibleCpus(), initialBytes: 1 << 20 });
        pinMap(rt, fileStore, cmd.mapCreate(rt, { mapType: kd.type, keySize: kd.key, valueSize: kd.value, maxEntries: kd.entries }), opath);
        const both = async (args: string[], sorted: boolean): Promise<void> => {
          const a = await ours([args[0], 'pinned', opath, ...args.slice(1)]);
          const b = theirs(['map', args[0], 'pinned', kpath, ...args.slice(1)]);
          const norm = (s: string): string => (sorted ? s.split('\n').sort().join('\n') : s);
          assert.equal(a.code === 0, b.code === 0, `${kd.name}: ${args.join(' ')} exit (${a.out} / ${b.out})`);
          if (b.code === 0) assert.equal(norm(a.out), norm(b.out), `${kd.name}: ${args.join(' ')}`);
        };
        const hash = kd.type === 1;
        for (const u of kd.updates) await both(['update', ...u], false);
        await both(['dump'], hash);
        if (!hash) await both(['dump', '-j'], false);
        await both(['lookup', ...kd.updates[0].slice(0, kd.updates[0].indexOf('value'))], false);
        await both(['lookup', ...kd.updates[0].slice(0, kd.updates[0].indexOf('value')), '-j'], false);
        await both(['lookup', 'key', ...Array(kd.key).fill('0x42')], false);
        if (!hash) await both(['getnext'], false);
        if (!hash) await both(['getnext', 'key', '0', '0', '0', '0', '-j'], false);
        if (hash) {
          await both(['delete', ...kd.updates[0].slice(0, kd.updates[0].indexOf('value'))], false);
          await both(['dump'], true);
        }
      } finally {
        rmSync(kpath, { force: true });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tsbpf map: updates persist in the pin; bad input is an error, not a crash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cli-map-'));
  try {
    const rt = new Runtime({ initialBytes: 1 << 20 });
    const path = join(dir, 'counters');
    pinMap(rt, fileStore, cmd.mapCreate(rt, { mapType: 1, keySize: 4, valueSize: 4, maxEntries: 4 }), path);
    assert.equal((await ours(['update', 'pinned', path, 'key', '1', '0', '0', '0', 'value', '2', '0', '0', '0'])).code, 0);
    assert.equal((await ours(['dump', 'pinned', path])).out, 'key: 01 00 00 00  value: 02 00 00 00\nFound 1 element\n');
    process.env.TSBPF_PIN_ROOT = dir;
    assert.match((await ours(['lookup', 'name', 'counters', 'key', '1', '0', '0', '0'])).out, /value: 02 00 00 00/);
    for (const bad of [['dump'], ['dump', 'pinned', join(dir, 'none')], ['lookup', 'pinned', path, 'key', '1'], ['update', 'pinned', path, 'key', '1', '0', '0', '0'],
      ['lookup', 'pinned', path, 'key', '0x100', '0', '0', '0'], ['frob', 'pinned', path]]) {
      const r = await ours(bad);
      assert.notEqual(r.code, 0, bad.join(' '));
      assert.match(r.out, /^Error: /, bad.join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
