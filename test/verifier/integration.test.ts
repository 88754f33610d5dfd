// The verifier in the loader and the CLI: verified programs run in trusted mode (unless checked
// mode is asked for), rejections name the instruction and the C source line, `prog load` prints
// statistics and state logs, and helpers' stack writes count as initialised in checked mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '../../src/core/index.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { openObject } from '../../src/core/runtime/loader.js';
import { loadObject, type LoadObjectOptions } from '../../src/core/runtime/object.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { isBpfError } from '../../src/core/errors.js';

const FIX = 'test/verifier/fixtures';
const pins = mkdtempSync(join(tmpdir(), 'tsbpf-verifier-'));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/tsbpf', ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function load(file: string, opts: LoadObjectOptions = {}) {
  const obj = openObject(new Uint8Array(readFileSync(file)));
  return loadObject(new Runtime(), obj.spec, { btfBytes: obj.btfBytes, ...opts });
}

test('loadObject: verified programs run trusted; --no-verify and explicit checked keep checked mode', () => {
  for (const [opts, checked] of [[{}, false], [{ verify: false }, true], [{ checked: true }, true], [{ checked: false, verify: false }, false]] as const) {
    for (const engine of [undefined, interpreter]) {
      const coll = load(`${FIX}/helper_stack.o`, { ...opts, engine });
      const p = coll.programs.xdp_helper_stack;
      assert.equal(p.checked, checked, `${JSON.stringify(opts)} ${engine?.name ?? 'jit'}`);
      // probe_read_kernel and map_pop_elem write the stack bytes the program then reads:
      // checked mode must count them as initialised, as the verifier does
      assert.equal(p.run({ data: new Uint8Array(64) }).retval, 42n);
      coll.close();
    }
  }
});

test('every clang-compiled test object loads in trusted mode', () => {
  for (const f of ['xdp_maps.o', 'subprogs.o', 'global_data.o', 'multi_sec.o', 'legacy_maps.o', 'core_relo.o', 'prog_array.o']) {
    const coll = load(`test/fixtures/c/${f}`);
    for (const p of Object.values(coll.programs)) {
      const modelled = core.VERIFIER_PROG_TYPES.includes(p.type as core.VerifierProgType) || p.type === 'sched_act';
      assert.equal(p.checked, !modelled, `${f}: ${p.name} (${p.type})`);
    }
    coll.close();
  }
});

test('loader rejection: verifier reason kept, instruction and BTF source line in message and context', () => {
  let err: unknown;
  try {
    load(`${FIX}/rejected.o`);
  } catch (e) {
    err = e;
  }
  assert.ok(isBpfError(err), String(err));
  assert.equal(err.code, 'E_VERIFIER');
  assert.equal((err as unknown as { reason: string }).reason, 'PKT_OUT_OF_BOUNDS');
  assert.equal(err.context.insn, 1);
  assert.equal(err.context.line, 10);
  assert.match(err.context.file ?? '', /rejected\.c$/);
  assert.match(err.message, /xdp_unchecked.*invalid access to packet.*`r1 = \*\(u8 \*\)\(r1 \+ 12\)`; source: `return data\[12\] == 0x08/);
  assert.match(err.message, /insn #1/);
});

test('prog load: statistics at --log-level 1, kernel-style state log at 2', () => {
  const one = cli(['prog', 'load', `${FIX}/helper_stack.o`, '--log-level', '1', '--pin-root', pins]);
  assert.equal(one.status, 0, one.err);
  assert.match(one.out, /xdp_helper_stack: processed \d+ insns \(limit 1000000\) max_states_per_insn \d+ total_states \d+ peak_states \d+/);
  assert.doesNotMatch(one.out, /R\d+_w=/);
  const two = cli(['prog', 'load', `${FIX}/helper_stack.o`, '--log-level', '2', '--pin-root', pins]);
  assert.equal(two.status, 0, two.err);
  assert.match(two.out, /\n\d+: \(7b\) \*\(u64 \*\)\(r10 - \d+\) = r1\n/);
  assert.match(two.out, /\n\d+: \(07\) r\d \+= -8 ; R\d_w=fp-8\n/);
  assert.match(two.out, /\n\d+: \(85\) call 113 ; R0_w=scalar\(\)/);
  assert.match(two.out, /\nfrom \d+ to \d+: R0=/);
  assert.match(two.out, /R0_w=scalar\(/);
  assert.match(two.out, /processed \d+ insns/);
  const zero = cli(['prog', 'load', `${FIX}/helper_stack.o`, '--pin-root', pins]);
  assert.doesNotMatch(zero.out, /processed/);
});

test('prog load of a rejected program fails with the instruction and the source line', () => {
  const r = cli(['prog', 'load', `${FIX}/rejected.o`, '--pin-root', pins]);
  assert.notEqual(r.status, 0);
  assert.match(r.err, /invalid access to packet/);
  assert.match(r.err, /insn #1/);
  assert.match(r.err, /source: `return data\[12\] == 0x08 \? XDP_PASS : XDP_DROP;`/);
  assert.match(r.err, /rejected\.c:10/);
  // --no-verify loads it anyway (checked mode will catch the access at run time)
  assert.equal(cli(['prog', 'load', `${FIX}/rejected.o`, '--no-verify', '--pin-root', pins]).status, 0);
});

test('prog run: a verified object runs trusted; --checked and --no-verify run checked', () => {
  const mode = (extra: string[]) => {
    const r = cli(['prog', 'run', `${FIX}/helper_stack.o`, '--debug', '--json', '--pin-root', pins, ...extra]);
    assert.equal(r.status, 0, r.err);
    assert.equal(JSON.parse(r.out).retval, '42');
    return /runs in (\w+) mode/.exec(r.err)?.[1];
  };
  assert.equal(mode([]), 'trusted');
  assert.equal(mode(['--checked']), 'checked');
  assert.equal(mode(['--no-verify']), 'checked');
  assert.equal(mode(['--engine', 'interp']), 'trusted');
  // an unverified program faults in checked mode instead of reading out of bounds
  const bad = cli(['prog', 'run', `${FIX}/rejected.o`, '--no-verify', '--pin-root', pins, '--data-in', `${FIX}/rejected.c`]);
  assert.equal(bad.status, 0, bad.err);
  const tiny = cli(['prog', 'run', `${FIX}/rejected.o`, '--no-verify', '--pin-root', pins]);
  assert.notEqual(tiny.status, 0);
  assert.match(tiny.err, /E_MEM/);
});

test('the core index exports the verifier (renamed where names clash)', () => {
  assert.equal(typeof core.verify, 'function');
  assert.equal(core.verifier.verify, core.verify);
  assert.ok(core.REJECT_CODES.UNINIT_REG);
  assert.ok(core.VERIFIER_PROG_TYPES.includes('xdp'));
  assert.throws(() => core.verify([{ code: 0xbf, dst: 0, src: 2, off: 0, imm: 0 }, { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]),
    (e: unknown) => e instanceof core.VerifierError && e.reason === 'UNINIT_REG');
});
