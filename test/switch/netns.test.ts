/**
 * Real traffic through the switch: two Linux network namespaces ping each other through it.
 *   - TAP: a TAP port per namespace (the tap devices are created by the switch and moved into
 *     the namespaces), program xdp_l2_static (static neighbours: MAC 02:..:NN -> ifindex NN);
 *   - VXLAN: a Linux vxlan interface per namespace (created in the root namespace so its UDP
 *     socket stays on loopback, then moved), the switch's VXLAN ports on 127.0.0.1, program
 *     VALE-BPF no-logic (port i -> i ^ 1, so ARP works too).
 * Each runs on one thread and on two workers (--workers 2: the main thread drives the ports
 * and deals frames to the workers by RSS hash).
 * Only loopback and namespace-private addresses are used. Everything created is removed, also
 * on failure. Skips with the reason when not root or without `ip`, /dev/net/tun or vxlan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { jit } from '../../src/core/jit/index.js';
import { Switch } from '../../src/switch/dataplane/switch.js';
import { LiveSwitch, type LiveLoop } from '../../src/switch/live.js';
import { MultiSwitch } from '../../src/switch/workers/multi.js';
import { MultiLive } from '../../src/switch/workers/live-multi.js';
import type { PortDriver } from '../../src/switch/ports/driver.js';
import type { PortStats } from '../../src/switch/dataplane/port.js';
import type { SwitchProgram } from '../../src/switch/program.js';
import { TapPort } from '../../src/switch/ports/tap.js';
import { VxlanPort } from '../../src/switch/ports/vxlan.js';
import { example } from './util.js';

const run = promisify(execFile);
const tag = String(process.pid % 100000);

function sh(...args: string[]): string {
  return execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quiet(...args: string[]): void {
  try {
    sh(...args);
  } catch {
    // cleanup of something that may not exist
  }
}

function why(): string | false {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root: creating namespaces and TAP devices needs CAP_NET_ADMIN';
  try {
    sh('ip', '-V');
  } catch {
    return 'the ip command (iproute2) is not installed';
  }
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun does not exist';
  try {
    sh('ping', '-V');
  } catch {
    return 'ping (iputils-ping) is not installed';
  }
  return false;
}

const skip = why();
if (skip) console.log(`# netns tests skipped: ${skip}`);

/** netnsUp puts interface `dev` of namespace `ns` up with a MAC and an address. */
function netnsUp(ns: string, dev: string, mac: string, addr: string): void {
  sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  sh('ip', '-n', ns, 'link', 'set', dev, 'address', mac);
  sh('ip', '-n', ns, 'addr', 'add', addr, 'dev', dev);
  sh('ip', '-n', ns, 'link', 'set', dev, 'up');
}

/** Running is a started live switch (one thread or `workers` workers) over two ports. */
interface Running { live: LiveLoop; stats(): PortStats[]; stop(): Promise<void> }

/** startSwitch runs `prog` on 2 ports whose drivers `drivers` makes, single-threaded (workers 0) or on workers. */
async function startSwitch(workers: number, prog: SwitchProgram, drivers: (sw: Switch) => PortDriver[]): Promise<Running> {
  if (workers === 0) {
    const sw = new Switch({ ports: 2, engine: jit });
    sw.attach(prog);
    const live = new LiveSwitch(sw, drivers(sw));
    return { live, stats: () => sw.stats(), stop: () => live.stop() };
  }
  const ms = await MultiSwitch.start({ workers, ports: 2, prog, mode: 'io' });
  try {
    const live = new MultiLive(ms, drivers(ms.front));
    return { live, stats: () => ms.stats(), stop: async () => { await live.stop(); await ms.stop(); } };
  } catch (e) {
    await ms.stop();
    throw e;
  }
}

async function ping(ns: string, addr: string): Promise<string> {
  const r = await run('ip', ['netns', 'exec', ns, 'ping', '-c', '3', '-i', '0.2', '-W', '2', addr], { timeout: 20_000 });
  return r.stdout;
}

for (const workers of [0, 2]) {
  const on = workers ? ` on ${workers} workers` : '';
  test(`two namespaces ping each other through TAP ports (xdp_l2_static)${on}`, { skip, timeout: 60_000 }, async () => {
    const ns = [`tsbpf-a${tag}${workers}`, `tsbpf-b${tag}${workers}`];
    const taps = [`tsbta${tag}${workers}`, `tsbtb${tag}${workers}`];
    let run: Running | null = null;
    try {
      for (const n of ns) sh('ip', 'netns', 'add', n);
      run = await startSwitch(workers, example('xdp_l2_static'), (sw) => taps.map((t, p) => new TapPort(sw, p, t)));
      for (let i = 0; i < 2; i++) {
        sh('ip', 'link', 'set', taps[i], 'netns', ns[i]);
        netnsUp(ns[i], taps[i], `02:00:00:00:00:0${i + 1}`, `10.251.${tag.length % 10}.${i + 1}/24`);
        // xdp_l2_static does not flood ARP: static neighbours
        sh('ip', '-n', ns[i], 'neigh', 'add', `10.251.${tag.length % 10}.${2 - i}`, 'lladdr', `02:00:00:00:00:0${2 - i}`, 'dev', taps[i],
          'nud', 'permanent');
      }
      run.live.start();
      const out = await ping(ns[0], `10.251.${tag.length % 10}.2`);
      assert.match(out, /3 received/);
      const s = run.stats();
      assert.ok(s[0].act_redirect >= 3 && s[1].act_redirect >= 3, 'requests and replies were redirected by the program');
      assert.ok(s[1].tx_packets >= 3 && s[0].tx_packets >= 3);
    } finally {
      await run?.stop();
      for (const n of ns) quiet('ip', 'netns', 'del', n);
      for (const t of taps) quiet('ip', 'link', 'del', t);
    }
  });

  test(`two namespaces ping each other through VXLAN ports (Linux vxlan <-> tsbpf, VALE no-logic)${on}`, { skip, timeout: 60_000 }, async (t) => {
    // Each namespace is a "host" with an underlay veth to the root namespace (where the switch
    // listens) and a Linux vxlan interface whose every frame goes to the switch's UDP port.
    // (Over 127.0.0.1 the kernel's vxlan would bypass UDP for a local destination.)
    const ns = [`tsbpf-c${tag}${workers}`, `tsbpf-d${tag}${workers}`];
    const ul = [`tsbul${tag}${workers}a`, `tsbul${tag}${workers}b`];
    const vx = `tsbvx${tag}`;
    const base = 42000 + (process.pid % 1000) * 8 + workers * 2;
    const kernelPort = base, ourPort = [base + 2, base + 3], vni = [4201, 4202];
    const under = (i: number, h: number) => `10.254.${i}.${h}`;
    const overlay = (h: number) => `10.252.${tag.length % 10}.${h}`;
    let run: Running | null = null;
    try {
      for (let i = 0; i < 2; i++) {
        sh('ip', 'netns', 'add', ns[i]);
        sh('ip', 'link', 'add', ul[i], 'type', 'veth', 'peer', 'name', 'ul0', 'netns', ns[i]);
        sh('ip', 'addr', 'add', `${under(i, 1)}/30`, 'dev', ul[i]);
        sh('ip', 'link', 'set', ul[i], 'up');
        sh('ip', '-n', ns[i], 'addr', 'add', `${under(i, 2)}/30`, 'dev', 'ul0');
        sh('ip', '-n', ns[i], 'link', 'set', 'ul0', 'up');
        try {
          sh('ip', '-n', ns[i], 'link', 'add', vx, 'type', 'vxlan', 'id', String(vni[i]), 'local', under(i, 2), 'dstport', String(kernelPort),
            'nolearning');
        } catch (e) {
          t.skip(`cannot create a vxlan interface: ${(e as { stderr?: string }).stderr?.trim() ?? e}`);
          return;
        }
        sh('bridge', '-n', ns[i], 'fdb', 'append', '00:00:00:00:00:00', 'dev', vx, 'dst', under(i, 1), 'port', String(ourPort[i]));
        netnsUp(ns[i], vx, `02:00:00:00:01:0${i + 1}`, `${overlay(i + 1)}/24`);
      }
      let drivers: VxlanPort[] = [];
      run = await startSwitch(workers, example('vale_nologic'), (sw) => (drivers = [0, 1].map((i) => new VxlanPort(sw, i, {
        localHost: under(i, 1), localPort: ourPort[i], remoteHost: under(i, 2), remotePort: kernelPort, vni: vni[i] }))));
      await Promise.all(drivers.map((d) => d.bind()));
      run.live.start();
      const out = await ping(ns[0], overlay(2));
      assert.match(out, /3 received/);
      const s = run.stats();
      assert.ok(s[0].act_forward >= 4 && s[1].act_forward >= 4, 'ARP and ICMP both ways went through the program');
    } finally {
      await run?.stop();
      for (const n of ns) quiet('ip', 'netns', 'del', n);
      for (const u of ul) quiet('ip', 'link', 'del', u);
    }
  });
}
