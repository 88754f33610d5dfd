// The BCC-like path: C source compiled with the system's clang and loaded; without clang the
// error says how to install it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { isBpfError } from '../../src/core/errors.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { compileC, findClang, loadC } from '../../src/node/bcc/index.js';
import { ENGINES, ipv4Frame } from './util.js';

const SRC = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
const volatile __u32 factor = 3;
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } bytes SEC(".maps");
SEC("xdp") int count_bytes(struct xdp_md *ctx) {
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&bytes, &k);
  if (v) *v += (ctx->data_end - ctx->data) * factor;
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
`;

test('C source loads and runs (compiled with clang)', (t) => {
  if (!findClang()) return t.skip('clang not installed');
  for (const [, engine] of ENGINES) {
    const coll = loadC(new Runtime(), SRC, { engine });
    assert.equal(coll.programs.count_bytes.run({ data: ipv4Frame(50) }).retval, 2n);
    coll.programs.count_bytes.run({ data: ipv4Frame(10) });
    assert.equal(Buffer.from(coll.maps.bytes.get(new Uint8Array(4)) as Uint8Array).readBigUInt64LE(), 180n);
  }
});

test('compile errors carry clang diagnostics', (t) => {
  if (!findClang()) return t.skip('clang not installed');
  assert.throws(() => compileC('int f( {', { name: 'broken.c' }), (e: unknown) => isBpfError(e) && e.code === 'E_CLANG' && /broken\.c:1:/.test(e.message));
});

test('without clang the error tells how to install it', () => {
  const dist = resolve('dist/src/node/bcc/index.js');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { compileC } from '${dist}';
    try { compileC('int x;'); } catch (e) { console.log(e.code + ' ' + e.message); }`], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
  assert.match(r.stdout, /^E_CLANG no clang found .*apt-get install clang-14 libbpf-dev/);
});
