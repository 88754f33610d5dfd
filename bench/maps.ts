/**
 * Map benchmark (user space): lookup, update and delete ns/op for array and hash maps with
 * 4/8 and 16/64-byte keys/values and 65,536 entries, tsbpf's command API side by side with
 * the kernel's bpf() syscalls. `node dist/bench/maps.js [--json]`.
 * (In-program rows — BPF_PROG_TEST_RUN loops against the JIT — are still to come.)
 */
import * as cmd from '../src/core/runtime/commands.js';
import { Runtime } from '../src/core/runtime/runtime.js';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, isPerCpu, round8 } from '../src/core/maps/layout.js';
import { kernelAvailable } from '../src/node/kernel/available.js';
import * as k from '../src/node/kernel/bpf-syscall.js';
import { cpus } from 'node:os';

const N = 65536;
const TYPES: Array<[string, number]> = [['array', BPF_MAP_TYPE_ARRAY], ['hash', BPF_MAP_TYPE_HASH],
  ['percpu_array', BPF_MAP_TYPE_PERCPU_ARRAY], ['percpu_hash', BPF_MAP_TYPE_PERCPU_HASH]];
const SIZES: Array<[number, number]> = [[4, 8], [16, 64]];

interface Row { map: string; keySize: number; valueSize: number; op: string; place: 'user'; tsbpf: number; kernel?: number }

interface Ops {
  update(key: Uint8Array, v: Uint8Array): void;
  lookup(key: Uint8Array): unknown;
  del(key: Uint8Array): void;
}

function keysFor(keySize: number): Uint8Array[] {
  return [...Array(N).keys()].map((i) => {
    const b = new Uint8Array(keySize);
    new DataView(b.buffer).setUint32(0, i, true);
    return b;
  });
}

function time(fn: () => void, reps: number): number {
  const t0 = performance.now();
  fn();
  return ((performance.now() - t0) * 1e6) / reps;
}

function measure(ops: Ops, keys: Uint8Array[], value: Uint8Array, hash: boolean): Record<string, number> {
  for (const key of keys) ops.update(key, value); // fill (and warm up)
  const order = keys.map((_, i) => keys[(i * 40503) % N]);
  const out: Record<string, number> = {};
  out.lookup = time(() => { for (const key of order) ops.lookup(key); }, N);
  out.update = time(() => { for (const key of order) ops.update(key, value); }, N);
  if (hash) out.delete = time(() => { for (const key of order) ops.del(key); }, N);
  return out;
}

function main(): void {
  const json = process.argv.includes('--json');
  const avail = kernelAvailable();
  const ncpus = cpus().length;
  const rows: Row[] = [];
  for (const [name, type] of TYPES) {
    for (const [ks0, vs] of SIZES) {
      const keySize = type === BPF_MAP_TYPE_ARRAY || type === BPF_MAP_TYPE_PERCPU_ARRAY ? 4 : ks0;
      const attr = { mapType: type, keySize, valueSize: vs, maxEntries: N };
      const uvs = isPerCpu(type) ? round8(vs) * ncpus : vs;
      const value = new Uint8Array(uvs).fill(7);
      const keys = keysFor(keySize);
      const hash = type === BPF_MAP_TYPE_HASH || type === BPF_MAP_TYPE_PERCPU_HASH;
      const rt = new Runtime({ cpus: ncpus });
      const fd = cmd.mapCreate(rt, attr);
      const ours = measure({
        update: (key, v) => cmd.mapUpdateElem(rt, fd, key, v),
        lookup: (key) => cmd.mapLookupElem(rt, fd, key),
        del: (key) => cmd.mapDeleteElem(rt, fd, key),
      }, keys, value, hash);
      let kern: Record<string, number> | undefined;
      if (avail.ok) {
        const kfd = k.mapCreate(attr);
        try {
          kern = measure({
            update: (key, v) => k.mapUpdate(kfd, key, v),
            lookup: (key) => k.mapLookup(kfd, key, uvs),
            del: (key) => k.mapDelete(kfd, key),
          }, keys, value, hash);
        } finally {
          k.closeFd(kfd);
        }
      }
      for (const op of Object.keys(ours)) {
        rows.push({ map: name, keySize, valueSize: vs, op, place: 'user', tsbpf: ours[op], kernel: kern?.[op] });
      }
    }
  }
  if (json) {
    console.log(JSON.stringify({ kernel: avail.ok ? 'available' : avail.reason, rows }, null, 2));
    return;
  }
  if (!avail.ok) console.log(`kernel: ${avail.reason}`);
  console.log('map            key/value  op      place  tsbpf ns/op  kernel ns/op  speed-up');
  for (const r of rows) {
    const sp = r.kernel ? `${(r.kernel / r.tsbpf).toFixed(1)}x` : '-';
    console.log(`${r.map.padEnd(14)} ${`${r.keySize}/${r.valueSize}`.padEnd(10)} ${r.op.padEnd(7)} ${r.place.padEnd(6)} ${r.tsbpf.toFixed(0).padStart(11)}  ${(r.kernel?.toFixed(0) ?? '-').padStart(12)}  ${sp}`);
  }
}

main();
