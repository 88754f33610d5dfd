/**
 * The BCC-like path: C source text in, loaded programs out. The source is compiled with the
 * system's clang (`$TSBPF_CLANG`, else clang-14, else clang) for the BPF target with debug
 * info (BTF), then opened and loaded like any object. Without clang the error says how to
 * install it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpfError } from '../../core/errors.js';
import type { Runtime } from '../../core/runtime/runtime.js';
import { loadObjectBytes } from '../../core/runtime/loader.js';
import type { LoadObjectOptions } from '../../core/runtime/object.js';
import type { Collection } from '../../core/runtime/object-collection.js';

/** INSTALL_HINT says how to get a BPF-capable clang and libbpf's headers. */
export const INSTALL_HINT = 'install clang and libbpf headers: `apt-get install clang-14 libbpf-dev` (Debian/Ubuntu), '
  + '`dnf install clang libbpf-devel` (Fedora), or set TSBPF_CLANG to a clang binary';

/** CompileOptions configure compileC. */
export interface CompileOptions {
  /** file name used in diagnostics and line info (default prog.c) */
  name?: string;
  /** extra include directories */
  includeDirs?: string[];
  /** extra clang flags (-DNAME=1 ...) */
  cflags?: string[];
}

function works(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

/** findClang returns the clang to use, or null when none is installed. */
export function findClang(): string | null {
  const candidates = [process.env.TSBPF_CLANG, 'clang-14', 'clang'].filter((c): c is string => !!c);
  return candidates.find(works) ?? null;
}

function archIncludes(): string[] {
  const triple = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf', s390x: 's390x-linux-gnu', ppc64: 'powerpc64le-linux-gnu', riscv64: 'riscv64-linux-gnu' }[process.arch as string];
  return triple ? [`-I/usr/include/${triple}`] : [];
}

/** compileC compiles BPF C source to a little-endian object with BTF. */
export function compileC(source: string, opts: CompileOptions = {}): Uint8Array {
  const clang = findClang();
  if (!clang) throw new BpfError('E_CLANG', `no clang found to compile ${opts.name ?? 'C source'}: ${INSTALL_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cc-'));
  try {
    const name = (opts.name ?? 'prog.c').replace(/^.*\//, '');
    const src = join(dir, name), out = join(dir, 'prog.o');
    writeFileSync(src, source);
    const args = ['-target', 'bpfel', '-O2', '-g', '-Wall', '-Wno-unused-variable', `-fdebug-prefix-map=${dir}=.`, ...archIncludes(),
      ...(opts.includeDirs ?? []).map((d) => `-I${d}`), ...(opts.cflags ?? []), '-c', src, '-o', out];
    const r = spawnSync(clang, args, { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      const diag = (r.stderr || String(r.error ?? '')).replaceAll(dir + '/', '').trimEnd();
      const hint = /bpf\/bpf_helpers\.h|asm\/types\.h/.test(diag) ? `\n(headers missing: ${INSTALL_HINT})` : '';
      throw new BpfError('E_CLANG', `${clang} could not compile ${name}:\n${diag}${hint}`, { file: name });
    }
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** loadC compiles C source and loads the object into `rt`. */
export function loadC(rt: Runtime, source: string, opts: LoadObjectOptions & CompileOptions = {}): Collection {
  return loadObjectBytes(rt, compileC(source, opts), opts);
}
