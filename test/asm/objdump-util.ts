/**
 * Test helpers for comparing with llvm-objdump: a tiny ELF64 reader for executable
 * sections, a parser for `llvm-objdump -d` listings, and tool discovery.
 */
import { spawnSync } from 'node:child_process';
import { Program, decode } from '../../src/core/isa/instruction.js';

/** Section is one executable section's name and instructions. */
export interface Section { name: string; prog: Program }

/** textSections reads the executable sections (SHF_EXECINSTR) of an ELF64 object. */
export function textSections(elf: Uint8Array): { little: boolean; sections: Section[] } {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const little = elf[5] === 1;
  const u16 = (o: number) => dv.getUint16(o, little);
  const u32 = (o: number) => dv.getUint32(o, little);
  const u64 = (o: number) => Number(dv.getBigUint64(o, little));
  const shoff = u64(0x28), shentsize = u16(0x3a), shnum = u16(0x3c), shstrndx = u16(0x3e);
  const hdr = (k: number) => shoff + k * shentsize;
  const strtab = u64(hdr(shstrndx) + 24);
  const name = (off: number) => {
    let end = strtab + off;
    while (elf[end] !== 0) end++;
    return new TextDecoder().decode(elf.subarray(strtab + off, end));
  };
  const sections: Section[] = [];
  for (let k = 0; k < shnum; k++) {
    const h = hdr(k);
    const flags = u64(h + 8);
    const size = u64(h + 32);
    if (u32(h + 4) !== 1 || !(flags & 4) || size === 0) continue; // PROGBITS, SHF_EXECINSTR
    const off = u64(h + 24);
    sections.push({ name: name(u32(h)), prog: decode(elf.slice(off, off + size), little) });
  }
  return { little, sections };
}

/** ObjdumpLine is one instruction line of `llvm-objdump -d`. */
export interface ObjdumpLine { slot: number; bytes: string; text: string; raw: string }

/** parseObjdump groups instruction lines by section name. */
export function parseObjdump(out: string): Map<string, ObjdumpLine[]> {
  const bySection = new Map<string, ObjdumpLine[]>();
  let cur: ObjdumpLine[] = [];
  for (const raw of out.split('\n')) {
    const sec = /^Disassembly of section (.*):$/.exec(raw);
    if (sec) bySection.set(sec[1], (cur = []));
    const m = /^\s*(\d+):\t([0-9a-f ]+)\t(.*)$/.exec(raw);
    if (m) cur.push({ slot: Number(m[1]), bytes: m[2].trim(), text: m[3], raw });
  }
  return bySection;
}

/** normalise collapses whitespace and drops llvm-objdump's `<sym+off>` target note. */
export function normalise(text: string): string {
  return text.replace(/\s*<[^<>]*>$/, '').replace(/\s+/g, ' ').trim();
}

/** have tells whether a tool runs. */
export function have(tool: string): boolean {
  return spawnSync(tool, ['--version'], { encoding: 'utf8' }).status === 0;
}

/** run runs a tool and returns stdout, throwing on failure. */
export function run(tool: string, args: string[]): string {
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
