/**
 * The `elf` fuzz target: each seed mutates one committed object (test fixtures, switch
 * examples, benchmark objects; see mutate.ts) and parses it. Passing means the parser (and
 * what consumes its BTF: raw dump, type names, map value decoding, source lines) either succeeds or throws
 * a BpfError E_ELF/E_BTF/E_RELOC that says where (section, symbol, instruction or offset),
 * within a second. Any other exception, the parser's last-resort wrapper, an error naming
 * nothing, or a slow parse is a mismatch, shrunk to the fewest edits that still fail.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseObject, type ObjectSpec } from '../../src/core/elf/index.js';
import { btfValue, dumpBtfRaw, typeName, typeSize } from '../../src/core/btf/index.js';
import { isBpfError, type BpfError } from '../../src/core/errors.js';
import type { DiffResult, SeedReport } from '../gen/diff.js';
import type { FuzzTarget } from '../gen/targets.js';
import { applyEdits, corpusObject, describeEdits, mutationFor, type CorpusObject, type Edit } from './mutate.js';

/** CORPUS_DIRS hold the committed objects the mutations start from. */
export const CORPUS_DIRS = ['test/fixtures/c', 'test/loader/fixtures', 'examples/switch', 'bench/programs', 'bench/loader'];

/** loadCorpus reads every committed .o under CORPUS_DIRS (relative to `root`). */
export function loadCorpus(root = process.cwd()): CorpusObject[] {
  return CORPUS_DIRS.flatMap((d) => {
    const dir = join(root, d);
    if (!existsSync(dir)) return [];
    return readdirSync(dir).filter((f) => f.endsWith('.o')).sort()
      .map((f) => corpusObject(join(d, f), new Uint8Array(readFileSync(join(dir, f)))));
  });
}

/** ALLOWED_CODES are the errors bad objects may produce. */
export const ALLOWED_CODES = new Set(['E_ELF', 'E_BTF', 'E_RELOC']);
/** SLOW_MS is the time one parse may take before it counts as a hang. */
export const SLOW_MS = 1000;

/** parseAndUse parses an object and exercises what the CLI does with its BTF. */
export function parseAndUse(bytes: Uint8Array): ObjectSpec {
  const spec = parseObject(bytes);
  // source lines are decoded on first read (error messages, `prog dump xlated`): read them all
  for (const p of spec.programs) if (!Array.isArray(p.lineInfo)) throw new Error('lineInfo is not an array');
  for (const s of spec.btfExt?.sections.values() ?? []) if (!Array.isArray(s.lineInfo)) throw new Error('lineInfo is not an array');
  const btf = spec.btf;
  if (!btf) return spec;
  dumpBtfRaw(btf);
  for (const t of btf.types) typeName(btf, t.id);
  for (const m of spec.maps) {
    for (const id of [m.btfKeyTypeId, m.btfValueTypeId]) {
      if (!id) continue;
      try {
        btfValue(btf, id, new Uint8Array(Math.min(typeSize(btf, id), 1 << 16)));
      } catch (e) {
        if (!isBpfError(e) || e.code !== 'E_BTF') throw e;
      }
    }
  }
  return spec;
}

// saysWhere: the error names a section, symbol or instruction, or the message an offset or field.
// Errors about the ELF header itself (magic, class, e_machine...) name the header.
const WHERE = /offset \d+|section|symbol|type \[\d+\]|type id \d+|\be_\w+|\bELF\b|header|machine \d+|relocatable object/;

/** judge returns null when the outcome of one parse is acceptable, else why not. */
export function judge(error: unknown, ms: number): string | null {
  if (ms > SLOW_MS) return `parse took ${ms.toFixed(0)} ms (limit ${SLOW_MS} ms)`;
  if (error === undefined) return null;
  if (!isBpfError(error)) return `not a BpfError: ${(error as Error)?.stack ?? String(error)}`;
  const e = error as BpfError;
  if (!ALLOWED_CODES.has(e.code)) return `unexpected code ${e.code}: ${e.message}`;
  const cause = e.cause;
  if (cause !== undefined && !isBpfError(cause)) return `parser bug caught by the safety net: ${(cause as Error)?.stack ?? String(cause)}`;
  const c = e.context;
  if (c.section === undefined && c.symbol === undefined && c.insn === undefined && !WHERE.test(e.detail)) return `error names no place: ${e.message}`;
  return null;
}

/** checkBytes parses one object and judges the outcome. */
export function checkBytes(bytes: Uint8Array, parse: (b: Uint8Array) => unknown = parseAndUse): string | null {
  let error: unknown;
  const t0 = performance.now();
  try {
    parse(bytes);
  } catch (e) {
    error = e ?? new Error('thrown undefined');
  }
  return judge(error, performance.now() - t0);
}

// shrinkEdits drops edits one by one while the object still fails.
function shrinkEdits(base: Uint8Array, list: Edit[], fails: (l: Edit[]) => boolean): Edit[] {
  let cur = list;
  for (let i = cur.length - 1; i >= 0 && cur.length > 1; i--) {
    const next = cur.filter((_, j) => j !== i);
    if (fails(next)) cur = next;
  }
  return cur;
}

function result(detail: string | null, bytes: Uint8Array, text: string): DiffResult {
  return { status: detail ? 'mismatch' : 'match', detail: detail ? `${text}\n  ${detail}` : '', prog: [], packet: bytes.subarray(0, 0), kind: 'xdp' };
}

/** elfSeedChecker returns the per-seed checker over `corpus` (with a replaceable parser, for tests). */
export function elfSeedChecker(corpus: CorpusObject[], parse?: (b: Uint8Array) => unknown): (seed: number, shrink: boolean) => SeedReport {
  return (seed, shrink) => {
    const m = mutationFor(seed, corpus);
    const base = corpus.find((o) => o.name === m.object)!.bytes;
    const bytes = applyEdits(base, m.edits);
    const detail = checkBytes(bytes, parse);
    const text = `${m.object} [${m.strategies.join(', ')}] ${describeEdits(m.edits)}`;
    const first = result(detail, bytes, text);
    if (!detail || !shrink) return { seed, first };
    const small = shrinkEdits(base, m.edits, (l) => checkBytes(applyEdits(base, l), parse) !== null);
    const sb = applyEdits(base, small);
    return { seed, first, shrunk: result(checkBytes(sb, parse), sb, `${m.object} ${describeEdits(small)}`) };
  };
}

/** elfFuzzTarget is the `elf` fuzz target. */
export function elfFuzzTarget(): FuzzTarget {
  let corpus: CorpusObject[] | null = null;
  const get = (): CorpusObject[] => (corpus ??= loadCorpus());
  return {
    name: 'elf',
    description: 'ELF/BTF parser on mutated committed objects: only E_ELF/E_BTF/E_RELOC naming the place, each parse < 1 s',
    available: () => (get().length ? { ok: true, reason: 'available' } : { ok: false, reason: 'no committed objects found (run from the repository root)' }),
    prepare: () => elfSeedChecker(get()),
  };
}
