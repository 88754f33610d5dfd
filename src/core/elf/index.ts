/**
 * elf: BPF ELF objects to plain specs. A bounds-checked ELF64 reader (both byte orders),
 * libbpf's section-name table, map definitions (legacy `maps`, BTF `.maps`, global data),
 * programs with their subprograms linked, and relocation records the runtime resolves
 * against live maps. Parsing never creates live objects.
 */
export * from './bytes.js';
export * from './elf-file.js';
export * from './sec-defs.js';
export * from './spec.js';
export * from './object-spec.js';
