/**
 * Reading a switch program named on the command line: a BPF ELF object (through the loader)
 * or eBPF assembly text. Without a file, the built-in VALE-BPF no-logic forwarder.
 */
import { readFileSync } from 'node:fs';
import { BpfError, isBpfError } from '../core/errors.js';
import { programFromAsm, programFromObject, type ProgKind, type SwitchProgram } from './program.js';
import { switchObject } from './objects.js';
import type { Runtime } from '../core/runtime/runtime.js';
import type { Collection } from '../core/runtime/object-collection.js';

/** NOLOGIC_ASM is the VALE-BPF no-logic forwarder: out port = ingress_port ^ 1. */
export const NOLOGIC_ASM = 'r0 = *(u32 *)(r1 + 16)\nw0 ^= 1\nexit\n';

/** ProgramArgs are the program options shared by `tsbpf switch` and `tsbpf pktgen`. */
export interface ProgramArgs {
  prog?: string;
  section?: string;
  name?: string;
  kind?: string;
}

/** LoadedSwitchProgram is a program and, for objects loaded into a runtime, its maps. */
export type LoadedSwitchProgram = SwitchProgram & { coll?: Collection };

/**
 * loadSwitchProgram reads the program the options name. With a runtime, objects are loaded by
 * the loader into it (their maps created there: the switch must live in that runtime);
 * without one, objects whose program uses maps are refused.
 */
export function loadSwitchProgram(a: ProgramArgs, runtime?: Runtime): LoadedSwitchProgram {
  const kind = checkKind(a);
  if (!a.prog) return programFromAsm(NOLOGIC_ASM, 'vale', 'nologic');
  return programFromBytes(a, kind, readProgramFile(a.prog), runtime);
}

/**
 * loadWorkerProgram reads the program for switch workers: a program that runs on its own, or,
 * for an object whose program uses maps (which the workers' shared runtime must create), the
 * object's bytes (read once).
 */
export function loadWorkerProgram(a: ProgramArgs): { prog?: SwitchProgram; object?: Uint8Array } {
  const kind = checkKind(a);
  if (!a.prog) return { prog: programFromAsm(NOLOGIC_ASM, 'vale', 'nologic') };
  const bytes = readProgramFile(a.prog);
  try {
    return { prog: programFromBytes(a, kind, bytes) };
  } catch (e) {
    if (!isBpfError(e) || e.code !== 'ENOTSUPP' || !isElf(bytes)) throw e;
    return { object: bytes };
  }
}

function checkKind(a: ProgramArgs): ProgKind | undefined {
  if (a.kind !== undefined && a.kind !== 'xdp' && a.kind !== 'vale') throw new BpfError('EINVAL', `--kind must be xdp or vale, not ${a.kind}`);
  return a.kind as ProgKind | undefined;
}

function readProgramFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new BpfError('E_IO', `cannot read ${path}: ${(e as Error).message}`);
  }
}

const isElf = (b: Uint8Array): boolean => b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;

function programFromBytes(a: ProgramArgs, kind: ProgKind | undefined, bytes: Uint8Array, runtime?: Runtime): LoadedSwitchProgram {
  if (isElf(bytes)) {
    if (!runtime) return programFromObject(bytes, { section: a.section, name: a.name, kind });
    const o = switchObject(bytes, { section: a.section, name: a.name, kind }, { runtime });
    return { ...o.prog, coll: o.coll };
  }
  return programFromAsm(new TextDecoder().decode(bytes), kind ?? 'xdp', a.prog!);
}
