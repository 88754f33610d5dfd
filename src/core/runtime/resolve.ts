/**
 * resolveMapReferences: the loader step that turns a program's map references into plain
 * 64-bit immediates, as the kernel does at BPF_PROG_LOAD:
 *   lddw rX, map       (src BPF_PSEUDO_MAP_FD, imm = fd)              -> header address
 *   lddw rX, map+off   (src BPF_PSEUDO_MAP_VALUE, imm = fd, imm2 = off) -> value address + off
 *   lddw rX, callback  (src BPF_PSEUDO_FUNC, imm = relative slot)     -> (CALLBACK_TAG << 32) | slot,
 *                       src kept so engines know the callback entry points (see HelperEnv.callback)
 */
import { BpfError } from '../errors.js';
import { type Program, isLddw } from '../isa/instruction.js';
import { BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from '../isa/opcodes.js';
import { CALLBACK_TAG } from '../helpers/registry.js';
import { BPF_MAP_TYPE_ARRAY } from '../maps/layout.js';
import type { MapInfo } from './runtime.js';

/** MapResolver finds maps by fd (a Runtime is one). */
export interface MapResolver {
  map(fd: number): MapInfo;
}

/** resolveMapReferences returns a copy of `prog` with every map reference resolved against `maps`. */
export function resolveMapReferences(prog: Program, maps: MapResolver): Program {
  const out = prog.map((i) => ({ ...i }));
  for (let k = 0; k < out.length; k++) {
    const i = out[k];
    if (!isLddw(i)) continue;
    if (i.src === BPF_PSEUDO_MAP_FD || i.src === BPF_PSEUDO_MAP_VALUE) {
      const addr = i.src === BPF_PSEUDO_MAP_FD ? mapAddress(maps, i.imm, k) : valueAddress(maps, i.imm, out[k + 1]?.imm ?? 0, k);
      i.src = 0;
      i.imm = addr | 0;
      if (out[k + 1]) out[k + 1].imm = 0;
    } else if (i.src === BPF_PSEUDO_FUNC && out[k + 1] && (out[k + 1].imm === 0 || out[k + 1].imm === -1)) {
      // the relative slot offset, its high word 0 or (from assemblers) its sign extension
      i.imm = k + 1 + i.imm;
      out[k + 1].imm = CALLBACK_TAG;
    }
    k++; // skip the second slot
  }
  return out;
}

function lookup(maps: MapResolver, fd: number, insn: number): MapInfo {
  try {
    return maps.map(fd);
  } catch {
    throw new BpfError('EINVAL', `fd ${fd} is not a map`, { insn });
  }
}

function mapAddress(maps: MapResolver, fd: number, insn: number): number {
  return lookup(maps, fd, insn).hdr;
}

/** valueAddress follows the kernel's array_map_direct_value_addr rules. */
function valueAddress(maps: MapResolver, fd: number, off: number, insn: number): number {
  const m = lookup(maps, fd, insn);
  if (m.mapType !== BPF_MAP_TYPE_ARRAY || m.maxEntries !== 1) {
    throw new BpfError('ENOTSUPP', `map ${m.name || fd} has no direct value address (array of one entry needed)`, { insn });
  }
  if (off < 0 || off >= m.valueSize) throw new BpfError('EINVAL', `value offset ${off} out of range`, { insn });
  return m.values + off;
}
