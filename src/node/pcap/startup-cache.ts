/**
 * StartupCache: what Node 22's module.enableCompileCache does, for one command on Node 20.
 * A fresh `tsbpf pcap filter` spent more time loading ~60 module files (resolve, read, compile
 * each ES module) than filtering a million packets. After a run from the real modules, the
 * command's module graph is bundled into one script (bundle.ts), checked against the real
 * module namespaces and written to the cache directory; the next run loads that script with
 * vm.Script and, from then on, with the V8 code cache it leaves behind. A manifest lists the
 * files the bundle came from with their modification times, sizes and content hashes: a file
 * with a new time but the same content (a rebuild of dist/ that changed nothing) only updates
 * the manifest; any other change makes the bundle stale and it is rebuilt after the run.
 * Every failure falls back to the real modules (never to an error).
 * TSBPF_NO_CACHE=1 turns it off; TSBPF_CACHE_DIR moves it (default dist/.cache).
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

/** Manifest says what the bundle was made from (path, mtime, size, hash), or why no bundle could be made. */
interface Manifest {
  node: string;
  files: [string, number, number, string][];
  /** time and size of the bundle script as written (it and the manifest are written separately) */
  script: [number, number];
  refused?: string;
}

/** CacheHit is a loaded bundle: the entries' exports, and `done` to call after the run (writes the code cache). */
export interface CacheHit {
  exports: Record<string, unknown>[];
  done(): void;
}

/** StartupCache caches the module graph of `entries` (absolute paths of compiled modules) under `name`. */
export class StartupCache {
  readonly dir: string;
  constructor(readonly name: string, readonly entries: string[], dir?: string) {
    this.dir = dir ?? process.env.TSBPF_CACHE_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '.cache');
  }

  get scriptPath(): string {
    return join(this.dir, `${this.name}.js`);
  }
  get codePath(): string {
    return join(this.dir, `${this.name}.v8`);
  }
  get manifestPath(): string {
    return join(this.dir, `${this.name}.json`);
  }

  /** load returns the cached entries' exports, or undefined when there is no fresh bundle. */
  load(): CacheHit | undefined {
    if (disabled()) return undefined;
    try {
      const m = JSON.parse(readFileSync(this.manifestPath, 'utf8')) as Manifest;
      if (m.refused !== undefined || !this.fresh(m)) return undefined;
      if (stamp(this.scriptPath).join() !== m.script.join()) return undefined;
      const text = readFileSync(this.scriptPath, 'utf8');
      const cachedData = readOptional(this.codePath);
      const script = new Script(text, { filename: this.scriptPath, cachedData });
      const res = evaluate(script, this.entries[0]);
      return {
        exports: res.slice(0, -1) as Record<string, unknown>[],
        done: () => {
          if (!cachedData || script.cachedDataRejected) writeAtomic(this.codePath, script.createCachedData());
        },
      };
    } catch {
      return undefined;
    }
  }

  /** fresh checks the manifest's files; rewritten files with unchanged contents get their new times recorded. */
  private fresh(m: Manifest): boolean {
    if (m.node !== process.version) return false;
    let touched = false;
    for (const f of m.files) {
      const s = statSync(f[0], { throwIfNoEntry: false });
      if (!s || s.size !== f[2]) return false;
      if (s.mtimeMs === f[1]) continue;
      if (hash(readFileSync(f[0], 'utf8')) !== f[3]) return false;
      f[1] = s.mtimeMs;
      touched = true;
    }
    if (touched) writeAtomic(this.manifestPath, JSON.stringify(m));
    return true;
  }

  /**
   * build bundles the graph after a run from the real modules (they are loaded, so their
   * namespaces are at hand), checks the bundle against them and writes it. Never throws.
   */
  async build(): Promise<void> {
    if (disabled()) return;
    try {
      const { bundleModules, moduleGraph } = await import('./bundle.js');
      const stamps = new Map<string, [number, number, string]>();
      const graph = moduleGraph(this.entries, (f) => {
        const text = readFileSync(f, 'utf8');
        stamps.set(f, [...stamp(f), hash(text)]);
        return text;
      });
      const spaces = new Map<string, Record<string, unknown>>();
      for (const g of graph) spaces.set(g.file, await import(pathToFileURL(g.file).href) as Record<string, unknown>);
      let script = '', refused: string | undefined;
      try {
        script = bundleModules(graph, this.entries, (f) => Object.keys(spaces.get(f) ?? {})).script;
        compare(script, this.entries[0], spaces);
      } catch (e) {
        refused = e instanceof Error ? e.message : String(e);
      }
      // a build of dist/ under way: do not cache a mix of old and new files
      if (graph.some((g) => stamp(g.file).join() !== stamps.get(g.file)!.slice(0, 2).join())) return;
      mkdirSync(this.dir, { recursive: true });
      // the script first: the manifest is what makes it count
      writeAtomic(this.scriptPath, script);
      const m: Manifest = {
        node: process.version, files: graph.map((g) => [g.file, ...stamps.get(g.file)!]), script: stamp(this.scriptPath), refused,
      };
      writeAtomic(this.manifestPath, JSON.stringify(m));
    } catch {
      // no cache: the next run loads the real modules again
    }
  }
}

function disabled(): boolean {
  return !!process.env.TSBPF_NO_CACHE && process.env.TSBPF_NO_CACHE !== '0';
}

function stamp(file: string): [number, number] {
  const s = statSync(file);
  return [s.mtimeMs, s.size];
}

/**
 * hash is a SHA-1 of a file's text, from node:crypto loaded only when needed (a JavaScript hash
 * over 370 KB runs cold, in the interpreter: tens of milliseconds).
 */
function hash(text: string): string {
  const crypto = createRequire(process.execPath)('node:crypto') as typeof import('node:crypto');
  return crypto.createHash('sha1').update(text).digest('hex');
}

type BundleFn = (require: NodeRequire, dyn: (base: string, spec: string) => Promise<unknown>) => unknown[];

/** evaluate runs a bundle script: dynamic imports inside it load the real modules. */
function evaluate(script: Script, anchor: string): unknown[] {
  const fn = script.runInThisContext() as BundleFn;
  return fn(createRequire(anchor), (base, spec) => import(new URL(spec, base).href));
}

/** compare evaluates a fresh bundle and checks every module's export names and kinds against the real ones. */
function compare(script: string, anchor: string, spaces: Map<string, Record<string, unknown>>): void {
  const res = evaluate(new Script(script), anchor);
  const load = res[res.length - 1] as (file: string) => Record<string, unknown>;
  for (const [file, real] of spaces) {
    const got = load(file);
    const want = Object.keys(real).sort().map((k) => `${k}:${typeof real[k]}`).join();
    const have = Object.keys(got).sort().map((k) => `${k}:${typeof got[k]}`).join();
    if (want !== have) throw new Error(`${file}: bundled exports differ (${have} instead of ${want})`);
  }
}

function readOptional(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** writeAtomic replaces a cache file in one rename, so concurrent runs never read half a file. */
function writeAtomic(path: string, data: string | Uint8Array): void {
  try {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch {
    // a read-only installation: run without the cache
  }
}
