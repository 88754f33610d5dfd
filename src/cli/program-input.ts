/**
 * Reading a program named on the command line: assembly text (.s/.asm), raw bytecode (.bin),
 * hex text (.hex), or a clang-compiled ELF object (program chosen with --section).
 */
import { BpfError } from '../core/errors.js';
import { decode, fromHex, type Program } from '../core/isa/index.js';
import { assemble } from '../core/asm/index.js';
import { parseObject, type ObjectSpec, type ProgramSpec } from '../core/elf/index.js';
import type { CliIo } from './io.js';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** ProgramInput is a program read from a file, with its object when it came from ELF. */
export interface ProgramInput {
  prog: Program;
  /** program name (the function for ELF, the file name otherwise) */
  name: string;
  /** 'raw' for assembly/bytecode; the libbpf program type ('xdp', 'socket_filter', ...) for ELF */
  type: string;
  spec?: ProgramSpec;
  object?: ObjectSpec;
}

/** readFileChecked reads a file, turning failures into E_IO errors. */
export function readFileChecked(path: string, io: CliIo): Uint8Array {
  try {
    return io.readFile(path);
  } catch (e) {
    throw new BpfError('E_IO', `cannot read ${path}: ${(e as Error).message}`);
  }
}

/** readProgram loads the program in `path`; `section` picks a program of an ELF object. */
export function readProgramInput(path: string, io: CliIo, section?: string): ProgramInput {
  return parseProgramInput(readFileChecked(path, io), path, section);
}

/** readProgram loads just the instructions of the program in `path`. */
export function readProgram(path: string, io: CliIo, section?: string): Program {
  return readProgramInput(path, io, section).prog;
}

/** isElf tells whether bytes start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** parseProgramInput turns file contents into a program, choosing the format by name and content. */
export function parseProgramInput(bytes: Uint8Array, name: string, section?: string): ProgramInput {
  const lower = name.toLowerCase();
  if (isElf(bytes)) return fromObject(parseObject(bytes), name, section);
  if (section !== undefined) throw new BpfError('EINVAL', `--section applies to ELF objects; ${name} is not one`);
  const base = name.replace(/^.*\//, '');
  if (lower.endsWith('.bin')) return { prog: decode(bytes), name: base, type: 'raw' };
  const text = new TextDecoder().decode(bytes);
  if (lower.endsWith('.hex')) return { prog: decode(fromHex(text)), name: base, type: 'raw' };
  if (lower.endsWith('.s') || lower.endsWith('.asm') || isText(bytes)) {
    try {
      return { prog: assemble(text), name: base, type: 'raw' };
    } catch (e) {
      throw e instanceof BpfError ? e.withContext({ file: name }) : e;
    }
  }
  return { prog: decode(bytes), name: base, type: 'raw' };
}

/** selectProgram finds the program named by `section` (a section or function name), or the only/first one. */
export function selectProgram(obj: ObjectSpec, file: string, section?: string): ProgramSpec {
  if (obj.programs.length === 0) throw new BpfError('ENOENT', `${file}: object has no programs`);
  if (section === undefined) return obj.programs[0];
  const p = obj.programs.find((x) => x.sectionName === section) ?? obj.programs.find((x) => x.name === section);
  if (!p) {
    const names = obj.programs.map((x) => `${x.sectionName} (${x.name})`).join(', ');
    throw new BpfError('ENOENT', `${file}: no program in section or named "${section}"; programs: ${names}`, { section });
  }
  return p;
}

function fromObject(obj: ObjectSpec, file: string, section?: string): ProgramInput {
  const spec = selectProgram(obj, file, section);
  return { prog: spec.insns, name: spec.name, type: spec.type, spec, object: obj };
}

function isText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 512);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 0 || b < 0x09 || (b > 0x0d && b < 0x20)) return false;
  }
  return n > 0;
}
