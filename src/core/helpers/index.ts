/**
 * helpers: kernel helper IDs and prototypes (generated from linux/bpf.h) and the registry
 * that maps IDs to implementations for the engines.
 */
export * from './ids.js';
export * from './registry.js';
