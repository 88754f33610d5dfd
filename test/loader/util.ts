/**
 * Shared pieces of the loader tests: fixture objects, engines, packets, and tsbpf map
 * contents in the same form as kernelMapEntries gives.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import type { Engine } from '../../src/core/vm/engine.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { mapGetNextKey, mapLookupElem } from '../../src/core/runtime/commands.js';
import { isBpfError } from '../../src/core/errors.js';
import { hex } from './kernel-object.js';

/** ENGINES are the engines every fixture runs in. */
export const ENGINES: Array<[string, Engine]> = [['interp', interpreter], ['jit', jit]];

/** FIXTURES lists every little-endian fixture object: test/fixtures/c and test/loader/fixtures. */
export function fixtureObjects(): string[] {
  const dirs = [join('test', 'fixtures', 'c'), join('test', 'loader', 'fixtures')];
  return dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.o') && !f.endsWith('.bpfeb.o')).sort().map((f) => join(d, f)));
}

/** readObject reads an object file relative to the repository. */
export function readObject(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** ipv4Frame is an Ethernet + IPv4 frame of `len` bytes whose bytes after the headers follow `seed`. */
export function ipv4Frame(len: number, seed = 1): Uint8Array {
  const f = new Uint8Array(len).map((_, i) => (i * 31 + seed * 7) & 0xff);
  f.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2].slice(0, len), 0);
  if (len >= 14) f.set([0x08, 0x00], 12);
  if (len >= 15) f[14] = 0x45;
  return f;
}

/** tsbpfMapEntries reads every key/value pair of a tsbpf map as sorted hex pairs. */
export function tsbpfMapEntries(rt: Runtime, fd: number): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let k: Uint8Array | null = null; ;) {
    try {
      k = mapGetNextKey(rt, fd, k);
    } catch (e) {
      if (isBpfError(e) && e.code === 'ENOENT') break;
      throw e;
    }
    try {
      out.push([hex(k), hex(mapLookupElem(rt, fd, k))]);
    } catch (e) {
      if (!isBpfError(e) || e.code !== 'ENOENT') throw e; // an empty prog array slot
    }
  }
  return out.sort();
}
