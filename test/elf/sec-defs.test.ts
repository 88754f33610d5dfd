// libbpf section-name rules: exact names, prefix/target names, order of longer names first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchSection, progTypeId, attachTypeId, parseObject, parseElf, readRelocations } from '../../src/core/elf/index.js';
import { isBpfError } from '../../src/core/errors.js';
import { fixture } from './fixtures.js';

test('section names map to program and attach types', () => {
  const cases: [string, string, string | null, string][] = [
    ['xdp', 'xdp', 'xdp', ''],
    ['xdp/devmap', 'xdp', 'xdp_devmap', ''],
    ['xdp.frags/cpumap', 'xdp', 'xdp_cpumap', ''],
    ['tc/ingress', 'sched_cls', 'tcx_ingress', ''],
    ['kprobe', 'kprobe', null, ''],
    ['kprobe.multi/vfs_*', 'kprobe', 'trace_kprobe_multi', 'vfs_*'],
    ['tp/sched/sched_switch', 'tracepoint', null, 'sched/sched_switch'],
    ['raw_tp.w/foo', 'raw_tracepoint_writable', null, 'foo'],
    ['fexit.s/do_x', 'tracing', 'trace_fexit', 'do_x'],
    ['cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect', ''],
    ['socket/extra', 'unspec', null, ''],
    ['kprobes/x', 'unspec', null, ''],
  ];
  for (const [sec, type, attach, to] of cases) {
    const m = matchSection(sec);
    assert.deepEqual([m.progType, m.attachType, m.attachTo], [type, attach, to], sec);
  }
  assert.equal(matchSection('fentry.s/x').sleepable, true);
  assert.equal(progTypeId('xdp'), 6);
  assert.equal(progTypeId('sched_cls'), 3);
  assert.equal(attachTypeId('xdp'), 37);
  assert.equal(attachTypeId(null), 0);
});

test('a relocation naming a missing symbol is an E_ELF error naming the section', () => {
  const bytes = fixture('subprogs.o').slice();
  const elf = parseElf(bytes);
  const rel = elf.sections.find((s) => s.name === '.relxdp')!;
  assert.equal(readRelocations(elf, rel).length, 1);
  // r_info high 32 bits = symbol index
  new DataView(bytes.buffer).setUint32(rel.offset + 12, 9999, true);
  assert.throws(() => parseObject(bytes), (e) => isBpfError(e) && e.code === 'E_ELF' && e.context.section === 'xdp' && /missing symbol 9999/.test(e.message));
});

test('a BTF map definition with an unknown field names the map', () => {
  const bytes = fixture('xdp_maps.o').slice();
  // rename the member "map_flags" to "map_flagz" in the BTF string section
  const btf = parseElf(bytes).sections.find((s) => s.name === '.BTF')!;
  const text = new TextDecoder('latin1').decode(btf.data);
  const at = btf.offset + text.indexOf('\0map_flags\0');
  assert.ok(at > btf.offset);
  bytes[at + 9] = 'z'.charCodeAt(0);
  assert.throws(() => parseObject(bytes), (e) => isBpfError(e) && e.code === 'E_ELF' && e.context.symbol === 'flows' && /unknown map definition field map_flagz/.test(e.message));
});
