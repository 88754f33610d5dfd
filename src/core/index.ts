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
// the JIT engine (docs/jit.md)
export { jit, loadJit, JitProgram, jitError, registerArrayInline, type JitOptions, type ArrayMapDescriber, type InlineArrayMap } from './jit/index.js';
// the verifier; names the ELF and runtime modules also use get a Verifier prefix
export { verify, VerifierError, REJECT_CODES, type RejectCode, type VerifyOptions, type VerifyResult, type VerifyStats, type MapLookup } from './verifier/index.js';
export {
  MAP_TYPES as VERIFIER_MAP_TYPES, PROG_TYPES as VERIFIER_PROG_TYPES, type ProgType as VerifierProgType, type MapInfo as VerifierMapInfo,
} from './verifier/index.js';
export * as verifier from './verifier/index.js';
export * as cbpf from './cbpf/index.js';
export * as pcap from './pcap/index.js';
export * as pcapFilter from './pcap-filter/index.js';
