/**
 * btf: BPF Type Format. Parses .BTF (types and strings) and .BTF.ext (func_info, line_info,
 * CO-RE relocation records) into plain data, names types in C syntax, prints the raw dump
 * bpftool prints, and shows map keys/values the way `bpftool map dump` does.
 */
export * from './types.js';
export * from './parse.js';
export * from './query.js';
export * from './format.js';
export * from './value.js';
export * from './ext.js';
export * from './patch.js';
