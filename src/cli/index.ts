/**
 * cli: the bpftool-style command line (`bin/tsbpf`).
 */
export { main, registerCommand } from './main.js';
export type { CliIo, CommandHandler } from './io.js';
