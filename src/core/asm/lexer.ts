/**
 * Line preparation and tokens for the assembler. A source line may carry llvm-objdump
 * decorations (slot number, instruction bytes, `<sym+0x10>` target notes), a label and
 * a comment (`#`, `;` or `//`); `prepareLine` peels them off and keeps column numbers.
 */
import { BpfError } from '../errors.js';

/** Token is one lexical item with its 1-based column in the source line. */
export interface Token {
  kind: 'id' | 'num' | 'op';
  text: string;
  col: number;
}

/** PreparedLine is a source line split into its parts. */
export interface PreparedLine {
  /** labels defined on this line (objdump symbol headers count as labels) */
  labels: { name: string; col: number }[];
  /** raw instruction bytes from an llvm-objdump byte column, if present */
  bytes?: number[];
  /** the statement text, with its starting column */
  text: string;
  col: number;
}

const IGNORED = [/^\s*Disassembly of section\b/, /:\s+file format\s/, /^\s*[0-9a-f]+:\s+R_BPF_\w+/i];
const SYMBOL_HEADER = /^\s*[0-9a-f]+\s+<([^<>]+)>:\s*$/i;
const SLOT_PREFIX = /^(\s*\d+:\s+)((?:[0-9a-f]{2}[ \t]+){7}[0-9a-f]{2}(?:[ \t]+(?:[0-9a-f]{2}[ \t]+){7}[0-9a-f]{2})?(?=\s|$))?/i;
const LABEL = /^(\s*)([A-Za-z_.$][\w.$]*)\s*:(?!=)/;

/** prepareLine strips comments and objdump decorations from one line. */
export function prepareLine(line: string): PreparedLine {
  const labels: PreparedLine['labels'] = [];
  if (IGNORED.some((re) => re.test(line))) return { labels, text: '', col: 1 };
  const header = SYMBOL_HEADER.exec(line);
  if (header) return { labels: [{ name: header[1], col: line.indexOf('<') + 2 }], text: '', col: 1 };
  let text = stripComment(line);
  let col = 1;
  let bytes: number[] | undefined;
  const slot = SLOT_PREFIX.exec(text);
  if (slot) {
    const skip = slot[1].length + (slot[2]?.length ?? 0);
    if (slot[2]) bytes = slot[2].trim().split(/\s+/).map((b) => parseInt(b, 16));
    text = text.slice(skip);
    col += skip;
  }
  for (let m = LABEL.exec(text); m; m = LABEL.exec(text)) {
    labels.push({ name: m[2], col: col + m[1].length });
    col += m[0].length;
    text = text.slice(m[0].length);
  }
  const lead = text.length - text.trimStart().length;
  return { labels, bytes, text: stripTargetNote(text.trim()), col: col + lead };
}

function stripComment(line: string): string {
  const m = /#|;|\/\//.exec(line);
  return m ? line.slice(0, m.index) : line;
}

/** stripTargetNote removes llvm-objdump's `<sym+0x18>` note after a branch target. */
function stripTargetNote(text: string): string {
  return /\b(goto|gotol|call)\b/.test(text) ? text.replace(/\s*<[^<>]*>$/, '') : text;
}

const OPERATORS = [
  's>>=', '<<=', '>>=', 's/=', 's%=', 's>=', 's<=', '+=', '-=', '*=', '/=', '%=', '|=', '&=', '^=',
  '==', '!=', '>=', '<=', 's>', 's<', '>', '<', '=', '(', ')', '*', '[', ']', ',', '+', '-', '&', ':',
];

/** tokenize splits statement text starting at column `col` into tokens. */
export function tokenize(text: string, col: number, line: number): Token[] {
  const out: Token[] = [];
  let p = 0;
  while (p < text.length) {
    const c = text[p];
    if (/\s/.test(c)) { p++; continue; }
    const op = OPERATORS.find((s) => text.startsWith(s, p));
    const word = /^%?[A-Za-z_.$][\w.$]*/.exec(text.slice(p));
    const num = /^(0x[0-9a-f]+|\d+)(?![\w.$])/i.exec(text.slice(p));
    if (op) {
      out.push({ kind: 'op', text: op, col: col + p });
      p += op.length;
    } else if (word) {
      out.push({ kind: 'id', text: word[0], col: col + p });
      p += word[0].length;
    } else if (num) {
      out.push({ kind: 'num', text: num[0], col: col + p });
      p += num[0].length;
    } else {
      throw asmError(`unexpected character '${c}'`, line, col + p);
    }
  }
  return out;
}

/** asmError builds the E_ASM error for a line and column. */
export function asmError(message: string, line: number, column: number): BpfError {
  return new BpfError('E_ASM', message, { line, column });
}
