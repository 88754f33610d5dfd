/**
 * Fixture access for the loader tests: the committed clang objects in test/fixtures/c and the
 * LLVM/bpftool commands the tests compare against (null when the tool is not installed).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** FIXTURE_DIR holds the C sources and their committed objects. */
export const FIXTURE_DIR = join(process.cwd(), 'test', 'fixtures', 'c');

/** fixtureNames lists the committed object files. */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.o')).sort();
}

/** fixture reads one object file. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURE_DIR, name)));
}

/** tool runs a command on a fixture and returns its stdout, or null when the tool is missing. */
export function tool(cmd: string, args: string[], name: string): string | null {
  const r = spawnSync(cmd, [...args, join(FIXTURE_DIR, name)], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return r.stdout;
}

/** hasTool tells whether a command can be run. */
export function hasTool(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}
