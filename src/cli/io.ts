/**
 * The CLI's view of the outside world, so commands can be tested without a process:
 * output streams, file access and standard input.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** CliIo is what a command may touch. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): Uint8Array;
  writeFile(path: string, data: Uint8Array | string): void;
  readStdin(): Uint8Array;
}

/** processIo is the real process's CliIo. */
export const processIo: CliIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  readFile: (p) => new Uint8Array(readFileSync(p)),
  writeFile: (p, d) => writeFileSync(p, d),
  readStdin: () => {
    try {
      return new Uint8Array(readFileSync(0));
    } catch {
      return new Uint8Array(0);
    }
  },
};

/** CommandHandler runs one subcommand and returns its exit status. */
export type CommandHandler = (argv: string[], io: CliIo) => Promise<number>;
