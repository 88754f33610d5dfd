/**
 * Reading a program named on the command line: assembly text (.s/.asm), raw bytecode
 * (.bin), hex text (.hex), or anything else sniffed by content.
 */
import { BpfError } from '../core/errors.js';
import { decode, fromHex, type Program } from '../core/isa/index.js';
import { assemble } from '../core/asm/index.js';
import type { CliIo } from './io.js';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** readProgram loads the program in `path` (little-endian bytecode for binary files). */
export function readProgram(path: string, io: CliIo): Program {
  let bytes: Uint8Array;
  try {
    bytes = io.readFile(path);
  } catch (e) {
    throw new BpfError('E_IO', `cannot read ${path}: ${(e as Error).message}`);
  }
  return parseProgram(bytes, path);
}

/** parseProgram turns file contents into a program, choosing the format by name and content. */
export function parseProgram(bytes: Uint8Array, name: string): Program {
  const lower = name.toLowerCase();
  if (ELF_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new BpfError('E_ELF', `${name}: ELF objects are loaded with the loader (not available in this build yet)`);
  }
  if (lower.endsWith('.bin')) return decode(bytes);
  const text = new TextDecoder().decode(bytes);
  if (lower.endsWith('.hex')) return decode(fromHex(text));
  if (lower.endsWith('.s') || lower.endsWith('.asm') || isText(bytes)) {
    try {
      return assemble(text);
    } catch (e) {
      throw e instanceof BpfError ? e.withContext({ file: name }) : e;
    }
  }
  return decode(bytes);
}

function isText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 512);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 0 || (b < 0x09) || (b > 0x0d && b < 0x20)) return false;
  }
  return n > 0;
}
