/**
 * Switch programs: what the switch runs on every frame. Two kinds: XDP (context struct
 * xdp_md, XDP_* actions) and VALE-BPF (context struct vale_bpf_md, return value = output
 * port, 254 broadcast, 255 drop). Programs come from clang-compiled ELF objects (through the
 * loader) or from assembly text.
 */
import { BpfError } from '../core/errors.js';
import { assemble } from '../core/asm/index.js';
import type { Program } from '../core/isa/instruction.js';
import { parseObject } from '../core/elf/index.js';
import type { ProgramSpec } from '../core/elf/index.js';

/** ProgKind is the context and return convention of a switch program. */
export type ProgKind = 'xdp' | 'vale';

/** SwitchProgram is a program ready to attach to a switch. */
export interface SwitchProgram {
  kind: ProgKind;
  name: string;
  insns: Program;
}

/** ObjectSelect picks one program out of an object (by function name or section name). */
export interface ObjectSelect {
  name?: string;
  section?: string;
  /** force the kind (default: "vale" for sections starting with "vale", else "xdp") */
  kind?: ProgKind;
}

/** kindOfSection guesses the program kind from an ELF section name. */
export function kindOfSection(section: string): ProgKind {
  return /^vale/i.test(section) ? 'vale' : 'xdp';
}

/**
 * programFromObject picks a program out of a BPF ELF object. Objects whose program still has
 * map relocations are refused until the switch can create maps (a clear error, not a crash).
 */
export function programFromObject(bytes: Uint8Array, sel: ObjectSelect = {}): SwitchProgram {
  const obj = parseObject(bytes);
  const cands = obj.programs.filter((p) => (sel.name === undefined || p.name === sel.name) &&
    (sel.section === undefined || p.sectionName === sel.section));
  if (cands.length === 0) {
    const have = obj.programs.map((p) => `${p.name} (${p.sectionName})`).join(', ') || 'none';
    throw new BpfError('ENOENT', `no program matches ${describe(sel)}; the object has: ${have}`);
  }
  if (cands.length > 1 && sel.name === undefined && sel.section === undefined) {
    throw new BpfError('EINVAL', `the object has ${cands.length} programs; choose one by name or section`);
  }
  return fromSpec(cands[0], sel.kind);
}

function fromSpec(p: ProgramSpec, kind?: ProgKind): SwitchProgram {
  if (p.relocations.length > 0) {
    const maps = [...new Set(p.relocations.map((r) => r.map))].join(', ');
    throw new BpfError('ENOTSUPP', `program ${p.name} uses maps (${maps}); the switch cannot create maps yet`, { section: p.sectionName });
  }
  return { kind: kind ?? kindOfSection(p.sectionName), name: p.name, insns: p.insns };
}

function describe(sel: ObjectSelect): string {
  const parts = [sel.name && `name ${sel.name}`, sel.section && `section ${sel.section}`].filter(Boolean);
  return parts.length ? parts.join(' and ') : 'the selection';
}

/** programFromAsm assembles eBPF text into a switch program of `kind`. */
export function programFromAsm(text: string, kind: ProgKind = 'xdp', name = 'asm'): SwitchProgram {
  return { kind, name, insns: assemble(text) };
}
