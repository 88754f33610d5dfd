// parseObject on the clang fixtures: hand-written facts, a comparison with llvm-objdump -d -r,
// and little- vs big-endian objects giving the same spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseObject, ObjectSpec, ProgramSpec, BPF_F_RDONLY_PROG, BPF_F_MMAPABLE } from '../../src/core/elf/index.js';
import { typeName } from '../../src/core/btf/index.js';
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, BPF_PSEUDO_CALL, jumpTarget, isLddw } from '../../src/core/isa/index.js';
import { fixture, fixtureNames, tool, hasTool } from './fixtures.js';

const parse = (name: string): ObjectSpec => parseObject(fixture(name));
const prog = (o: ObjectSpec, name: string): ProgramSpec => {
  const p = o.programs.find((x) => x.name === name);
  assert.ok(p, `program ${name}`);
  return p;
};

test('xdp_maps: BTF-defined hash and array maps, referenced by lddw relocations', () => {
  const o = parse('xdp_maps.o');
  assert.equal(o.license, 'GPL');
  const flows = o.maps.find((m) => m.name === 'flows')!;
  assert.deepEqual([flows.type, flows.keySize, flows.valueSize, flows.maxEntries, flows.flags, flows.pinning], ['hash', 16, 32, 1024, 1, 'none']);
  assert.equal(typeName(o.btf!, flows.btfKeyTypeId), 'struct flow_key');
  assert.equal(typeName(o.btf!, flows.btfValueTypeId), 'struct flow_stats');
  const counters = o.maps.find((m) => m.name === 'counters')!;
  assert.deepEqual([counters.type, counters.keySize, counters.valueSize, counters.maxEntries, counters.pinning], ['array', 4, 8, 4, 'by_name']);
  assert.equal(typeName(o.btf!, counters.btfKeyTypeId), '__u32');
  const p = prog(o, 'xdp_count');
  assert.deepEqual([p.sectionName, p.type, p.expectedAttachType], ['xdp', 'xdp', 'xdp']);
  assert.deepEqual(p.relocations.map((r) => [r.kind, r.map]), [['map', 'counters'], ['map', 'flows']]);
  for (const r of p.relocations) {
    assert.ok(isLddw(p.insns[r.insn]));
    assert.equal(p.insns[r.insn].src, BPF_PSEUDO_MAP_FD);
  }
});

test('legacy_maps: struct bpf_map_def entries, license and version sections', () => {
  const o = parse('legacy_maps.o');
  assert.equal(o.license, 'Dual BSD/GPL');
  assert.equal(o.kernVersion, 0x050a00);
  assert.deepEqual(o.maps.map((m) => [m.name, m.section, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags]),
    [['packets', 'maps', 'array', 4, 8, 16, 0], ['seen', 'maps', 'hash', 8, 4, 256, 1]]);
  const p = prog(o, 'sock_count');
  assert.equal(p.type, 'socket_filter');
  assert.equal(p.kernVersion, 0x050a00);
  assert.deepEqual(p.relocations.map((r) => r.map), ['packets', 'seen']);
});

test('global_data: .data/.rodata/.bss/.rodata.str1.1 become array maps with their bytes', () => {
  const o = parse('global_data.o');
  const m = (n: string) => o.maps.find((x) => x.name === n)!;
  const text = (b: Uint8Array | null, from: number) => new TextDecoder().decode(b!.subarray(from, b!.indexOf(0, from)));
  assert.deepEqual([...m('.data').initialValue!], [7, 0, 0, 0]);
  assert.equal(new DataView(m('.rodata').initialValue!.buffer).getInt32(0, true), 100);
  assert.equal(text(m('.rodata').initialValue, 4), 'big packet %u');
  assert.equal(text(m('.rodata.str1.1').initialValue, 0), 'tiny %d\n');
  assert.deepEqual([...m('.bss').initialValue!], new Array(16).fill(0));
  for (const n of ['.data', '.rodata', '.bss', '.rodata.str1.1']) {
    assert.deepEqual([m(n).type, m(n).keySize, m(n).maxEntries, m(n).valueSize], ['array', 4, 1, m(n).initialValue!.length]);
  }
  assert.equal(m('.rodata').flags, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG);
  assert.equal(m('.data').flags, BPF_F_MMAPABLE);
  assert.equal(typeName(o.btf!, m('.bss').btfValueTypeId), 'SEC(".bss")');
  const p = prog(o, 'tc_global');
  assert.deepEqual([p.type, p.expectedAttachType], ['sched_cls', null]);
  // `total` lives at offset 8 of .bss (after the static `hits`), the format string at 4 of .rodata.
  const rel = p.relocations.map((r) => `${r.kind}:${r.map}+${r.offset}`);
  assert.ok(rel.includes('map_value:.bss+8') && rel.includes('map_value:.rodata+4') && rel.includes('map_value:.rodata.str1.1+0'), rel.join(' '));
  for (const r of p.relocations) assert.equal(p.insns[r.insn].src, BPF_PSEUDO_MAP_VALUE);
  // BTF DATASEC fixed up with sizes and offsets, as libbpf does before loading.
  const bss = o.btf!.types.find((t) => t.kind === 'datasec' && t.name === '.bss');
  assert.ok(bss && bss.kind === 'datasec');
  assert.equal(bss.size, 16);
  assert.deepEqual(bss.vars.map((v) => v.offset).sort(), [0, 8]);
});

test('subprogs: static and global subprograms appended after the program, calls fixed up', () => {
  const o = parse('subprogs.o');
  const xdp = prog(o, 'xdp_calls');
  assert.deepEqual(xdp.subprograms.map((s) => s.name), ['twice', 'add3']);
  const tc = prog(o, 'tc_calls');
  assert.deepEqual(tc.subprograms.map((s) => s.name), ['add3']);
  assert.equal(o.programs.length, 2, '.text functions are not programs');
  for (const p of [xdp, tc]) {
    const starts = new Set(p.subprograms.map((s) => s.insn));
    const calls = p.insns.map((i, pc) => ({ i, pc })).filter(({ i }) => i.code === 0x85 && i.src === BPF_PSEUDO_CALL);
    assert.ok(calls.length > 0);
    for (const { i, pc } of calls) assert.ok(starts.has(jumpTarget(i, pc)!), `call at ${pc} lands on a subprogram`);
    // func_info: one record per function, at its start
    assert.deepEqual(p.funcInfo.map((f) => f.insn), [0, ...p.subprograms.map((s) => s.insn)]);
  }
  // add3 is the same code in both programs
  const code = (p: ProgramSpec, name: string) => p.insns.slice(p.subprograms.find((s) => s.name === name)!.insn);
  assert.deepEqual(code(xdp, 'add3'), code(tc, 'add3'));
});

test('prog_array: __array initial values for a prog array and a map of maps', () => {
  const o = parse('prog_array.o');
  const jmp = o.maps.find((m) => m.name === 'jmp_table')!;
  assert.deepEqual([jmp.type, jmp.keySize, jmp.valueSize, jmp.maxEntries], ['prog_array', 4, 4, 3]);
  assert.deepEqual(jmp.contents, [{ key: 1, name: 'tail_a' }, { key: 2, name: 'tail_b' }]);
  const outer = o.maps.find((m) => m.name === 'outer')!;
  assert.deepEqual([outer.type, outer.valueSize, outer.maxEntries], ['array_of_maps', 4, 4]);
  assert.deepEqual(outer.contents, [{ key: 0, name: 'inner_a' }, { key: 2, name: 'inner_b' }]);
  assert.deepEqual([outer.innerMap!.type, outer.innerMap!.keySize, outer.innerMap!.valueSize, outer.innerMap!.maxEntries], ['array', 4, 4, 1]);
  assert.deepEqual(o.programs.map((p) => p.name), ['tail_a', 'tail_b', 'entry']);
  assert.deepEqual(prog(o, 'entry').relocations.map((r) => r.map), ['outer', 'jmp_table']);
});

test('multi_sec: program types and attach types from libbpf section names', () => {
  const o = parse('multi_sec.o');
  const got = Object.fromEntries(o.programs.map((p) => [p.name, [p.sectionName, p.type, p.expectedAttachType, p.attachTo]]));
  assert.deepEqual(got, {
    p_xdp_frags: ['xdp.frags', 'xdp', 'xdp', ''],
    p_classifier: ['classifier', 'sched_cls', null, ''],
    p_kprobe: ['kprobe/do_sys_open', 'kprobe', null, 'do_sys_open'],
    p_kretprobe: ['kretprobe/do_sys_open', 'kprobe', null, 'do_sys_open'],
    p_tp: ['tracepoint/syscalls/sys_enter_write', 'tracepoint', null, 'syscalls/sys_enter_write'],
    p_uprobe: ['uprobe//bin/bash:readline', 'kprobe', null, '/bin/bash:readline'],
    p_raw_tp: ['raw_tp/sched_switch', 'raw_tracepoint', null, 'sched_switch'],
    p_fentry: ['fentry/do_unlinkat', 'tracing', 'trace_fentry', 'do_unlinkat'],
    p_perf: ['perf_event', 'perf_event', null, ''],
    p_cg_in: ['cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress', ''],
    p_cg_eg: ['cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress', ''],
    p_custom: ['my_custom_section', 'unspec', null, ''],
    p_sock1: ['socket', 'socket_filter', null, ''],
    p_sock2: ['socket', 'socket_filter', null, ''],
  });
  assert.equal(prog(o, 'p_xdp_frags').xdpFrags, true);
  assert.equal(prog(o, 'p_sock2').insns[0].imm, 2, 'second program of a section starts at its own symbol');
});

test('core_relo: CO-RE records and line info are attached to the program', () => {
  const p = prog(parse('core_relo.o'), 'core_read');
  assert.deepEqual(p.coreRelos.map((r) => [r.accessStr, r.kind]), [['0:0', 'field_byte_offset'], ['0:2:1', 'field_byte_offset'], ['0:1', 'field_exists']]);
  // clang already wrote the local offset of nested.b (16 + 4) into the instruction
  assert.equal(p.insns[p.coreRelos[1].insn].imm, 20);
  const first = p.lineInfo[0];
  assert.deepEqual([first.insn, first.file, first.line, first.lineNo], [0, './core_relo.c', 'int core_read(struct task_like *t)', 13]);
});

test('big-endian objects give the same spec as little-endian ones', () => {
  for (const name of ['xdp_maps', 'subprogs', 'global_data']) {
    const le = parse(`${name}.o`);
    const be = parse(`${name}.bpfeb.o`);
    assert.equal(be.littleEndian, false);
    assert.deepEqual(be.programs, le.programs, name);
    const strip = (o: ObjectSpec) => o.maps.map((m) => ({ ...m, initialValue: m.initialValue && m.initialValue.length }));
    assert.deepEqual(strip(be), strip(le), name);
    assert.deepEqual(be.btf!.types, le.btf!.types, name);
  }
  const be = parse('global_data.bpfeb.o');
  assert.deepEqual([...be.maps.find((m) => m.name === '.data')!.initialValue!], [0, 0, 0, 7]);
});

// Compare each program's own slots and relocations with what llvm-objdump prints.
for (const name of fixtureNames()) {
  test(`${name}: programs and relocations match llvm-objdump -d -r`, (t) => {
    if (!hasTool('llvm-objdump')) return t.skip('llvm-objdump not installed');
    const out = tool('llvm-objdump', ['-d', '-r', '--no-show-raw-insn'], name);
    if (out === null) return t.skip('llvm-objdump failed');
    const o = parse(name);
    for (const p of o.programs) {
      const lines = functionLines(out, p.name);
      assert.ok(lines.length, `objdump shows ${p.name}`);
      const slots = lines.map((l) => /^\s*(\d+):\t(.*)$/.exec(l)).filter((m) => m !== null);
      const base = Number(slots[0]![1]);
      const own = p.subprograms.length ? p.subprograms[0].insn : p.insns.length;
      const last = slots[slots.length - 1]!;
      assert.equal(own, Number(last[1]) - base + (/ ll$/.test(last[2]) ? 2 : 1), `${p.name} length`);
      const relocs = lines.map((l) => /^\s+([0-9a-f]{16}):\s+(R_BPF_\w+)\s+(\S+)/.exec(l)).filter((m) => m !== null);
      const mapRelocs = relocs.filter((m) => m![2] === 'R_BPF_64_64');
      assert.deepEqual(p.relocations.map((r) => r.insn), mapRelocs.map((m) => parseInt(m![1], 16) / 8 - base), `${p.name} relocation slots`);
      p.relocations.forEach((r, i) => {
        const sym = mapRelocs[i]![3];
        assert.ok(r.map === sym || (r.kind === 'map_value' && o.maps.some((m) => m.name === r.map && m.initialValue)), `${p.name} ${r.map} vs ${sym}`);
      });
      for (const m of relocs.filter((x) => x![2] === 'R_BPF_64_32')) {
        const at = parseInt(m![1], 16) / 8 - base;
        const target = jumpTarget(p.insns[at], at)!;
        const sub = p.subprograms.find((s) => s.insn === target);
        assert.ok(sub && (sub.name === m![3] || m![3] === '.text'), `${p.name} call at ${at} -> ${m![3]}`);
      }
    }
  });
}

// functionLines returns objdump's lines for one function: up to the next function or section
// (LBB* labels inside the function do not end it).
function functionLines(out: string, fn: string): string[] {
  const all = out.split('\n');
  const start = all.findIndex((l) => l.endsWith(` <${fn}>:`));
  if (start < 0) return [];
  const rest = all.slice(start + 1);
  const end = rest.findIndex((l) => /^[0-9a-f]{16} <(?!LBB)/.test(l) || l.startsWith('Disassembly of section'));
  return end < 0 ? rest : rest.slice(0, end);
}
