/**
 * Reading the per-instruction conformance corpus (test/corpus/<group>/*.data). The file format
 * follows the public eBPF conformance suite's data files (sections introduced by `-- name`
 * lines) and is documented in test/corpus/README.md.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHex } from '../../src/core/isa/instruction.js';

/** ExpectedError is the `-- error` section: a BpfError code and optionally the faulting insn. */
export interface ExpectedError {
  code: string;
  insn?: number;
}

/** CorpusCase is one parsed .data file. */
export interface CorpusCase {
  /** path relative to the corpus root, e.g. "base64/add-k.data" */
  name: string;
  /** conformance group: the first directory of `name` */
  group: string;
  /** assembly text (`-- asm`), comments removed, line numbers kept */
  asm?: string;
  /** raw instruction bytes (`-- raw`), little-endian slots */
  raw?: Uint8Array;
  /** data given to the program: r1 = its address, r2 = its length; also the LD_ABS packet */
  mem: Uint8Array;
  /** expected r0, unsigned 64-bit */
  result?: bigint;
  error?: ExpectedError;
  /** expected data after the run */
  memOut?: Uint8Array;
  /** instruction budget for the run (default: the engine default) */
  budget?: number;
}

/** corpusRoot finds test/corpus from the compiled test (dist/test/conformance) or the cwd. */
export function corpusRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '../../../test/corpus'), join(here, '../corpus'), join(process.cwd(), 'test/corpus')];
  for (const c of candidates) if (existsSync(join(c, 'README.md'))) return c;
  throw new Error(`corpus not found (tried ${candidates.join(', ')})`);
}

/** listCorpus returns the paths of all .data files under `root`, sorted. */
export function listCorpus(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.data')) out.push(p);
    }
  };
  walk(root);
  return out;
}

/** loadCorpus parses every .data file under the corpus root. */
export function loadCorpus(root = corpusRoot()): CorpusCase[] {
  return listCorpus(root).map((p) => parseCase(relative(root, p), readFileSync(p, 'utf8')));
}

function stripComment(line: string): string {
  const i = line.indexOf('#');
  return i < 0 ? line : line.slice(0, i);
}

/** splitSections maps section names to their lines; text before the first section is dropped. */
function splitSections(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of text.split(/\r?\n/)) {
    const m = /^--\s*(.*?)\s*$/.exec(line);
    if (m) {
      current = [];
      sections.set(m[1].toLowerCase(), current);
    } else if (current) current.push(line);
  }
  return sections;
}

function parseBig(text: string, what: string, name: string): bigint {
  const t = text.trim();
  if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(t)) throw new Error(`${name}: bad ${what} "${t}"`);
  const neg = t.startsWith('-');
  const v = BigInt(neg ? t.slice(1) : t);
  return BigInt.asUintN(64, neg ? -v : v);
}

function parseError(text: string, name: string): ExpectedError {
  const m = /^(E_[A-Z_0-9]+|E[A-Z0-9]+)(?:\s+insn\s+(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`${name}: bad error section "${text.trim()}" (want e.g. "E_MEM insn 3")`);
  return m[2] === undefined ? { code: m[1] } : { code: m[1], insn: Number(m[2]) };
}

function joined(lines: string[] | undefined): string | undefined {
  if (!lines) return undefined;
  return lines.map(stripComment).join('\n').trim();
}

/** parseCase parses the text of one .data file named `name`. */
export function parseCase(name: string, text: string): CorpusCase {
  const s = splitSections(text);
  const asmLines = s.get('asm');
  const raw = joined(s.get('raw'));
  if (!asmLines && raw === undefined) throw new Error(`${name}: needs an "-- asm" or "-- raw" section`);
  const c: CorpusCase = {
    name,
    group: name.split(/[\\/]/)[0],
    mem: fromHex(joined(s.get('mem')) ?? ''),
  };
  if (asmLines) c.asm = asmLines.map(stripComment).join('\n');
  if (raw !== undefined) c.raw = fromHex(raw);
  const result = joined(s.get('result'));
  if (result) c.result = parseBig(result, 'result', name);
  const error = joined(s.get('error'));
  if (error) c.error = parseError(error, name);
  const memOut = joined(s.get('mem-out'));
  if (memOut !== undefined) c.memOut = fromHex(memOut);
  const budget = joined(s.get('budget'));
  if (budget) c.budget = Number(parseBig(budget, 'budget', name));
  if ((c.result === undefined) === (c.error === undefined)) {
    throw new Error(`${name}: needs exactly one of "-- result" and "-- error"`);
  }
  return c;
}
