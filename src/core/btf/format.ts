/**
 * Type names in C syntax (`struct flow_key`, `__u32 *`, `char[8]`) for messages and the
 * disassembler, and `dumpBtfRaw`, the text `bpftool btf dump file X` prints, so our parse
 * can be compared with bpftool's line by line.
 */
import { Btf, BtfType } from './types.js';
import { typeById, MAX_RESOLVE_DEPTH } from './query.js';

/** typeName prints a type as C would name it. */
export function typeName(btf: Btf, id: number, depth = 0): string {
  return nameOf(btf, id, depth, { left: NAME_BUDGET });
}

// Function prototypes name their parameters' types: corrupt BTF whose prototypes share
// parameter types level after level would expand exponentially, so a name has a size budget.
const NAME_BUDGET = 4096;

function nameOf(btf: Btf, id: number, depth: number, budget: { left: number }): string {
  if (depth > MAX_RESOLVE_DEPTH || --budget.left < 0) return '...';
  const t = typeById(btf, id);
  const inner = (ref: number) => nameOf(btf, ref, depth + 1, budget);
  switch (t.kind) {
    case 'void': return 'void';
    case 'int': case 'float': case 'typedef': case 'func': return t.name;
    case 'struct': case 'union': return `${t.kind} ${t.name || '(anon)'}`;
    case 'enum': case 'enum64': return `enum ${t.name || '(anon)'}`;
    case 'fwd': return `${t.fwdKind} ${t.name}`;
    case 'ptr': return `${inner(t.type)} *`;
    case 'array': return `${inner(t.type)}[${t.nelems}]`;
    case 'const': case 'volatile': return `${t.kind} ${inner(t.type)}`;
    case 'restrict': return `${inner(t.type)} restrict`;
    case 'type_tag': return `${inner(t.type)} __attribute__((btf_type_tag("${t.name}")))`;
    case 'func_proto': return `${inner(t.returnType)} (*)(${t.params.map((p) => (p.type === 0 ? '...' : inner(p.type))).join(', ') || 'void'})`;
    case 'var': return `${inner(t.type)} ${t.name}`;
    case 'datasec': return `SEC("${t.name}")`;
    case 'decl_tag': return `__attribute__((btf_decl_tag("${t.name}")))`;
  }
}

function q(name: string): string {
  return `'${name || '(anon)'}'`;
}

function enumVal(v: bigint): string {
  return v.toString();
}

/** dumpTypeRaw prints one type in bpftool's raw `btf dump` format. */
export function dumpTypeRaw(btf: Btf, t: BtfType): string {
  const head = `[${t.id}] ${t.kind.toUpperCase()} ${q(t.name)}`;
  switch (t.kind) {
    case 'void': return `[0] UNKNOWN`;
    case 'int': {
      const enc = t.signed ? 'SIGNED' : t.char ? 'CHAR' : t.bool ? 'BOOL' : '(none)';
      return `${head} size=${t.size} bits_offset=${t.offset} nr_bits=${t.bits} encoding=${enc}`;
    }
    case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
      return `${head} type_id=${t.type}`;
    case 'array':
      return `${head} type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
    case 'struct': case 'union':
      return [`${head} size=${t.size} vlen=${t.members.length}`, ...t.members.map((m) =>
        `\t${q(m.name)} type_id=${m.type} bits_offset=${m.bitOffset}${m.bitfieldSize ? ` bitfield_size=${m.bitfieldSize}` : ''}`)].join('\n');
    case 'enum': case 'enum64':
      return [`${head} encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`,
        ...t.values.map((e) => `\t${q(e.name)} val=${enumVal(e.value)}`)].join('\n');
    case 'fwd': return `${head} fwd_kind=${t.fwdKind}`;
    case 'func': return `${head} type_id=${t.type} linkage=${t.linkage}`;
    case 'func_proto':
      return [`${head} ret_type_id=${t.returnType} vlen=${t.params.length}`, ...t.params.map((p) => `\t${q(p.name)} type_id=${p.type}`)].join('\n');
    case 'var': return `${head} type_id=${t.type}, linkage=${t.linkage}`;
    case 'datasec':
      return [`${head} size=${t.size} vlen=${t.vars.length}`, ...t.vars.map((s) => {
        const v = btf.types[s.type];
        return `\ttype_id=${s.type} offset=${s.offset} size=${s.size}${v ? ` (${v.kind.toUpperCase()} ${q(v.name)})` : ''}`;
      })].join('\n');
    case 'float': return `${head} size=${t.size}`;
    case 'decl_tag': return `${head} type_id=${t.type} component_idx=${t.componentIdx}`;
  }
}

/** dumpBtfRaw prints all types (not void) as `bpftool btf dump file X` does. */
export function dumpBtfRaw(btf: Btf): string {
  return btf.types.slice(1).map((t) => dumpTypeRaw(btf, t)).join('\n');
}
