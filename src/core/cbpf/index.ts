/**
 * cbpf: classic BPF as its own small ISA: instructions and constants, the tcpdump text forms
 * (-d, -dd, -ddd), the kernel's checker, a reference interpreter and a converter to eBPF.
 */
export * from './opcodes.js';
export * from './check.js';
export * from './text.js';
export * from './interp.js';
export * from './convert.js';
export * from './run.js';
export * from './jsgen.js';
