/**
 * Our disassembly against llvm-objdump 14, line by line: over a table of every valid
 * opcode (raw bytes assembled by clang-14), over C programs compiled by clang-14, and
 * over the committed fixture objects. Also: pasted llvm-objdump output assembles to
 * the section's bytes. Skips with a reason when the tools are missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, formatInsn, slotCount, DisasmOptions } from '../../src/core/asm/index.js';
import { Program, encode } from '../../src/core/isa/instruction.js';
import { validInsns } from './valid-insns.js';
import { have, normalise, parseObjdump, run, textSections } from './objdump-util.js';

const OBJDUMP = '/usr/bin/llvm-objdump';
const CLANG = 'clang-14';
const hasObjdump = have(OBJDUMP);
const hasClang = hasObjdump && have(CLANG);

/** VARIANTS pairs llvm-objdump flags with the options that reproduce them. */
const VARIANTS: [string[], DisasmOptions][] = [
  [[], { llvmCompat: true }],
  [['--print-imm-hex'], { llvmCompat: true, hex: true }],
  [['--mattr=+alu32'], { llvmCompat: true, alu32: true }],
];

/** knownDeviation: lines where llvm-objdump 14 itself is wrong or outdated (see docs/asm.md). */
function knownDeviation(prog: Program, pc: number, flags: string[]): boolean {
  const i = prog[pc];
  if (i.code === 0x8d) return true;
  const op = i.code & 0xf0, cls = i.code & 7;
  if ((cls === 4 || cls === 7) && (op === 0x30 || op === 0x90 || op === 0xb0) && i.off !== 0) return true; // LLVM 14 predates sdiv/smod/movsx and ignores off // LLVM 14 reads callx's register from imm; the kernel ABI (and LLVM >= 19) use dst
  return i.code === 0xc3 && i.imm !== 0 && !flags.includes('--mattr=+alu32'); // LLVM 14's non-alu32 decoder ignores the atomic op
}

interface Compared { same: number; skipped: number }

function compareSection(prog: Program, lines: ReturnType<typeof parseObjdump> extends Map<string, infer L> ? L : never, flags: string[], opts: DisasmOptions): Compared {
  const res = { same: 0, skipped: 0 };
  let k = 0;
  for (let pc = 0; pc < prog.length; pc += slotCount(prog, pc), k++) {
    const line = lines[k];
    assert.ok(line, `objdump has no line for slot ${pc}`);
    assert.equal(line.slot, pc, `slot numbering at ${line.raw}`);
    if (line.text.includes('<unknown>') || knownDeviation(prog, pc, flags)) {
      res.skipped++;
      continue;
    }
    assert.equal(normalise(formatInsn(prog, pc, opts)), normalise(line.text), `${flags.join(' ')} slot ${pc}: ${line.raw}`);
    res.same++;
  }
  return res;
}

function objdump(obj: string, flags: string[]): ReturnType<typeof parseObjdump> {
  return parseObjdump(run(OBJDUMP, ['-d', ...flags, obj]));
}

function checkObject(obj: string): number {
  const { sections } = textSections(readFileSync(obj));
  let same = 0;
  for (const [flags, opts] of VARIANTS) {
    const dump = objdump(obj, flags);
    for (const s of sections) same += compareSection(s.prog, dump.get(s.name) ?? [], flags, opts).same;
  }
  return same;
}

/** checkPaste assembles llvm-objdump's whole output and compares with the section bytes. */
function checkPaste(obj: string, little: boolean): void {
  const { sections } = textSections(readFileSync(obj));
  for (const flags of [[], ['--print-imm-hex']]) {
    const out = run(OBJDUMP, ['-d', ...flags, obj]);
    const chunks = out.split(/^(?=Disassembly of section)/m).slice(1);
    for (const s of sections) {
      const chunk = chunks.find((c) => c.startsWith(`Disassembly of section ${s.name}:`));
      assert.ok(chunk, `no disassembly for ${s.name}`);
      assert.deepEqual(encode(assemble(chunk, { littleEndian: little }), little), encode(s.prog, little), `${obj} ${s.name} pasted`);
    }
  }
}

/**
 * checkTextPaste assembles `llvm-objdump -d --no-show-raw-insn --mattr=+alu32` (text only). The only
 * slots allowed to differ are the ones LLVM's text cannot express: local and kfunc
 * calls (printed like helper calls) and the high half of a pseudo lddw.
 */
function checkTextPaste(obj: string, little: boolean): number {
  const { sections } = textSections(readFileSync(obj));
  // alu32 decoding: LLVM 14's default decoder cannot print (or misprints) 32-bit atomics
  const out = run(OBJDUMP, ['-d', '--no-show-raw-insn', '--mattr=+alu32', obj]);
  const chunks = out.split(/^(?=Disassembly of section)/m).slice(1);
  let lossy = 0;
  for (const s of sections) {
    const chunk = chunks.find((c) => c.startsWith(`Disassembly of section ${s.name}:`))!;
    const prog = assemble(chunk, { littleEndian: little });
    assert.equal(prog.length, s.prog.length, `${obj} ${s.name} text paste length`);
    prog.forEach((i, pc) => {
      const want = s.prog[pc];
      if (JSON.stringify(i) === JSON.stringify(want)) return;
      const call = want.code === 0x85 && i.code === 0x85 && i.imm === want.imm && i.src === 0;
      const pseudoHigh = pc > 0 && s.prog[pc - 1].code === 0x18 && s.prog[pc - 1].src !== 0;
      assert.ok(call || pseudoHigh, `${obj} ${s.name} slot ${pc}: ${JSON.stringify(i)} != ${JSON.stringify(want)}`);
      lossy++;
    });
  }
  return lossy;
}

function tableObject(dir: string): string {
  const lines = ['.text', '.globl table', 'table:'];
  for (const group of validInsns()) {
    lines.push('.byte ' + Array.from(encode(group), (b) => `0x${b.toString(16)}`).join(','));
  }
  writeFileSync(join(dir, 'table.s'), lines.join('\n') + '\n');
  run(CLANG, ['-target', 'bpf', '-c', join(dir, 'table.s'), '-o', join(dir, 'table.o')]);
  return join(dir, 'table.o');
}

test('every valid opcode prints as llvm-objdump 14 prints it', (t) => {
  if (!hasClang) return t.skip('clang-14 or llvm-objdump not installed');
  const obj = tableObject(mkdtempSync(join(tmpdir(), 'tsbpf-asm-')));
  const same = checkObject(obj);
  assert.ok(same > 3 * 1000, `only ${same} lines compared`);
  checkPaste(obj, true);
});

const C_PROGRAMS: Record<string, string> = {
  loops: `
int sum(int *p, int n) { int s = 0; for (int i = 0; i < n; i++) s += p[i] * 3 - (p[i] >> 2); return s; }
long shifts(long a, unsigned long b, int c) { return (a >> 3) + (b >> 5) + (c << 2) + ((unsigned long)a / 7) + (b % 10) + (a * 9); }`,
  maps: `
struct map_def { unsigned int type, key_size, value_size, max_entries; };
struct map_def counts __attribute__((section("maps"), used)) = { 1, 4, 8, 16 };
static void *(*lookup)(void *map, const void *key) = (void *)1;
static long (*update)(void *map, const void *key, const void *value, unsigned long flags) = (void *)2;
__attribute__((section("xdp"), used)) int prog(void *ctx) {
  unsigned int k = 3; long v = 1; long *p = lookup(&counts, &k);
  if (!p) { update(&counts, &k, &v, 0); return 1; }
  __sync_fetch_and_add(p, 2);
  return 2;
}`,
  calls: `
static __attribute__((noinline)) int sq(int x) { return x * x + 1; }
static __attribute__((noinline)) long twice(long x) { return sq((int)x) * 2 - x; }
__attribute__((section("tc"), used)) int entry(long *ctx) { return twice(ctx[0]) + sq(ctx[1]); }`,
  atomics: `
long a64(long *p, long v) { long old = __sync_fetch_and_add(p, v); __sync_fetch_and_or(p, 4); old += __sync_fetch_and_xor(p, v); __sync_fetch_and_and(p, 3);
  old += __sync_val_compare_and_swap(p, old, v); return old + __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
int a32(int *p, int v) { int old = __sync_fetch_and_add(p, v); __sync_fetch_and_or(p, 4); old += __sync_fetch_and_and(p, v);
  old += __sync_val_compare_and_swap(p, old, v); return old + __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }`,
  switches: `
int pick(int x, long y) { switch (x) { case 0: return 7; case 1: return y > 3; case 2: return (int)(y >> 40);
  case 5: return x & 0x55; case 9: return -x; default: return (unsigned long)y < 1234567890123ULL; } }
unsigned long big(void) { return 0x123456789abcdefULL; }`,
  swaps: `
unsigned int s32(unsigned int x) { return __builtin_bswap32(x); }
unsigned long s64(unsigned long x) { return __builtin_bswap64(x); }
unsigned short s16(unsigned short x) { return __builtin_bswap16(x); }
unsigned long bytes(unsigned char *p) { return p[0] | (p[1] << 8) | ((unsigned long)*(unsigned short *)(p + 2) << 16) | ((signed char)p[5]); }`,
  packets: `
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");
__attribute__((section("socket"), used)) int filt(void *skb) {
  int off = load_byte(skb, 14) & 0xf;
  return load_half(skb, 12) == 0x800 && load_word(skb, off + 26) != 0;
}`,
};

test('clang-14 programs disassemble exactly as llvm-objdump 14 prints them', (t) => {
  if (!hasClang) return t.skip('clang-14 or llvm-objdump not installed');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-asm-c-'));
  for (const [name, src] of Object.entries(C_PROGRAMS)) {
    for (const cpu of name === 'atomics' ? ['v3'] : ['v2', 'v3']) {
      const c = join(dir, `${name}.c`), obj = join(dir, `${name}-${cpu}.o`);
      writeFileSync(c, src);
      run(CLANG, ['-target', 'bpf', '-O2', `-mcpu=${cpu}`, '-c', c, '-o', obj]);
      assert.ok(checkObject(obj) > 5, `${name}: too few lines compared`);
      checkPaste(obj, true);
      const lossy = checkTextPaste(obj, true);
      if (name === 'calls') assert.ok(lossy > 0, 'local calls lose their src in LLVM text');
    }
  }
});

function fixtureObjects(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? fixtureObjects(p) : n.endsWith('.o') ? [p] : [];
  });
}

test('committed fixture objects disassemble as llvm-objdump prints them (both byte orders)', (t) => {
  if (!hasObjdump) return t.skip('llvm-objdump not installed');
  const objs = fixtureObjects('test/fixtures');
  if (objs.length === 0) return t.skip('no fixture objects under test/fixtures');
  for (const obj of objs) {
    const little = textSections(readFileSync(obj)).little;
    checkObject(obj);
    checkPaste(obj, little);
    checkTextPaste(obj, little);
  }
});
