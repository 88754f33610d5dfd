/**
 * patchDatasecs writes the loader's DATASEC fixups (section sizes, variable offsets) back into
 * a raw BTF blob. clang leaves them zero in `.BTF`; libbpf fills them in before handing the
 * BTF to the kernel, so maps created from an object carry the fixed BTF. tsbpf keeps the blob
 * with pinned maps, and `map dump` then finds `.data`/`.bss` variables at their real offsets.
 */
import { BpfError } from '../errors.js';
import { ByteView } from '../elf/bytes.js';
import { BTF_KINDS, type Btf } from './types.js';

const TYPE_HDR = 12;

// bodyLength is the size of the kind-specific data after a type's 12-byte header.
function bodyLength(kind: string, vlen: number): number {
  switch (kind) {
    case 'int': case 'var': case 'decl_tag': return 4;
    case 'array': return 12;
    case 'struct': case 'union': case 'datasec': case 'enum64': return vlen * 12;
    case 'enum': case 'func_proto': return vlen * 8;
    default: return 0;
  }
}

/** patchDatasecs returns a copy of `bytes` with every DATASEC's size and variables taken from `btf` (parsed from `bytes`). */
export function patchDatasecs(bytes: Uint8Array, btf: Btf): Uint8Array {
  const out = bytes.slice();
  const v = new ByteView(out, btf.littleEndian, 'E_BTF', 'btf');
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const hdrLen = v.u32(4, 'hdr_len');
  const start = hdrLen + v.u32(8, 'type_off');
  const end = start + v.u32(12, 'type_len');
  v.check(start, end - start, 'type section');
  for (let at = start, id = 1; at < end; id++) {
    const info = v.u32(at + 4, `type [${id}] info`);
    const kind = BTF_KINDS[(info >>> 24) & 0x1f];
    const vlen = info & 0xffff;
    const t = btf.types[id];
    if (!t || t.kind !== kind) throw new BpfError('E_BTF', `type [${id}] does not match the parsed BTF`, { section: '.BTF' });
    if (t.kind === 'datasec') {
      v.check(at, TYPE_HDR + vlen * 12, `type [${id}] datasec`);
      dv.setUint32(at + 8, t.size, btf.littleEndian);
      t.vars.forEach((s, i) => {
        dv.setUint32(at + TYPE_HDR + i * 12 + 4, s.offset, btf.littleEndian);
        dv.setUint32(at + TYPE_HDR + i * 12 + 8, s.size, btf.littleEndian);
      });
    }
    at += TYPE_HDR + bodyLength(kind, vlen);
  }
  return out;
}
