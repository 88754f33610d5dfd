/**
 * tsbpf core: platform-neutral eBPF (no Node APIs; runs in a browser).
 */
export * from './errors.js';
export * from './isa/index.js';
export * from './helpers/index.js';
export * from './vm/index.js';
export * from './asm/index.js';
export * from './elf/index.js';
export * from './btf/index.js';
export * from './maps/index.js';
export * from './runtime/index.js';
export * as cbpf from './cbpf/index.js';
export * as pcap from './pcap/index.js';
export * as pcapFilter from './pcap-filter/index.js';
