/**
 * bundleModules: turns a graph of compiled ES modules (tsc's output in dist/) into one classic
 * script, so a fresh process can load it with a single read and a V8 code cache
 * (startup-cache.ts) instead of resolving, reading and compiling dozens of module files.
 * Node 20 has no compile cache for ES modules (module.enableCompileCache is Node 22+).
 *
 * The transform works on tsc's regular output, one statement per import/export line:
 * each module becomes a function filling an exports object; `import {a as b} from './x.js'`
 * becomes `const {a: b} = __import('x')` (modules are evaluated dependencies first, as ES
 * modules are); exported function declarations are published before the body runs, like
 * hoisted ES bindings, so an import cycle over functions works. Anything it cannot model
 * (default exports, `export let`, import.meta, a cycle over non-functions) is refused, and the
 * caller checks the result against the real module namespaces before using it.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** BundleInput is one module of the graph: its absolute path and its source text. */
export interface BundleInput {
  file: string;
  source: string;
}

/** Bundle is the generated script and the files it was made from (dependencies first). */
export interface Bundle {
  script: string;
  files: string[];
}

// one import/export-from statement at the start of a line, or a side-effect import
const STATEMENT = /^(import|export)\s+([^;'"]*?)\s*from\s*(['"])([^'"]+)\3;?|^import\s*(['"])([^'"]+)\5;?/gm;

/** moduleGraph lists the relative-import graph of `entries` (absolute paths), dependencies first. */
export function moduleGraph(entries: string[], read: (file: string) => string = (f) => readFileSync(f, 'utf8')): BundleInput[] {
  const out: BundleInput[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string): void => {
    if (state.has(file)) return;
    state.set(file, 'open');
    const source = read(file);
    for (const m of source.matchAll(STATEMENT)) {
      const spec = m[4] ?? m[6];
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
    }
    state.set(file, 'done');
    out.push({ file, source });
  };
  entries.forEach(visit);
  return out;
}

/**
 * bundleModules writes the script: an expression evaluating to a function (require, dynImport)
 * that returns [entry namespaces..., __import] (`__import(absolute path)` gives any module's
 * exports). `names(file)` gives a module's export names (from its real namespace).
 */
export function bundleModules(graph: BundleInput[], entries: string[], names: (file: string) => string[]): Bundle {
  const sources = new Map(graph.map((g) => [g.file, g.source]));
  const done = new Set<string>();
  let out = '(function (require, __dyn) {\n"use strict";\nconst __defs = {}, __mods = {};\n'
    + 'function __import(k) { let m = __mods[k]; if (!m) { m = __mods[k] = {}; __defs[k](m); } return m; }\n';
  for (const { file, source } of graph) {
    out += `__defs[${JSON.stringify(file)}] = function (__exports) {\n${transform(file, source, names, (f) => sources.get(f) ?? '', done)}\n};\n`;
    done.add(file);
  }
  out += `return [${entries.map((e) => `__import(${JSON.stringify(e)})`).join(', ')}, __import];\n})`;
  return { script: out, files: graph.map((g) => g.file) };
}

/** transform rewrites one module's imports and exports (see the file comment). */
function transform(file: string, source: string, names: (f: string) => string[], sourceOf: (f: string) => string,
  done: Set<string>): string {
  const dir = dirname(file);
  const where = relative(process.cwd(), file);
  if (/\bimport\.meta\b/.test(source)) throw new Error(`${where}: import.meta cannot be bundled`);
  const reexported = new Set<string>(), stars: string[] = [], aliases = new Map<string, string>();
  let src = source.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n');
  src = src.replace(STATEMENT, (_all, kw: string, what: string, _q, spec: string, _q2, bare: string) => {
    if (bare) return `${from(bare)};`;
    const target = spec.startsWith('.') ? resolve(dir, spec) : undefined;
    const f = from(spec);
    if (kw === 'import') {
      if (what.startsWith('* as ')) return `const ${what.slice(5).trim()} = ${f};`;
      if (!what.startsWith('{')) throw new Error(`${where}: default import of ${spec} cannot be bundled`);
      const bindings = what.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean).map((s) => s.split(/\s+as\s+/));
      // an import cycle sees a partly evaluated module: only its (hoisted) functions are there yet
      if (target && !done.has(target)) checkCycleSafe(target, bindings.map((b) => b[0]), where);
      return `const { ${bindings.map(([a, b = a]) => (a === b ? a : `${a}: ${b}`)).join(', ')} } = ${f};`;
    }
    if (what === '*') {
      if (target) stars.push(target);
      return `Object.assign(__exports, ${f});`;
    }
    if (what.startsWith('* as ')) {
      reexported.add(what.slice(5).trim());
      return `__exports.${what.slice(5).trim()} = ${f};`;
    }
    const pairs = what.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean).map((s) => s.split(/\s+as\s+/));
    pairs.forEach(([a, b = a]) => reexported.add(b));
    return `{ const __t = ${f}; ${pairs.map(([a, b = a]) => `__exports.${b} = __t.${a};`).join(' ')} }`;
  });
  if (/^export\s+(let|var|default)\b/m.test(src)) throw new Error(`${where}: export let/var/default cannot be bundled`);
  src = src.replace(/^export\s*\{([^}]*)\};?/gm, (_all, list: string) => {
    for (const [a, b = a] of list.split(',').map((s) => s.trim()).filter(Boolean).map((s) => s.split(/\s+as\s+/))) aliases.set(b, a);
    return '';
  });
  src = src.replace(/^export\s+(?=(?:async\s+)?(?:function|class|const)\b)/gm, '');
  src = src.replace(/\bimport\((?=\s*['"])/g, `__dyn(${JSON.stringify(pathToFileURL(file).href)}, `);
  const starNames = new Set(stars.flatMap((s) => names(s)));
  const locals = names(file).filter((k) => !reexported.has(k) && (aliases.has(k) || !starNames.has(k) || declares(src, k)));
  const fns = new Set([...src.matchAll(/^(?:async\s+)?function\*?\s+([\w$]+)/gm)].map((m) => m[1]));
  const publish = (ks: string[]): string => ks.map((k) => `__exports.${k} = ${aliases.get(k) ?? k};`).join(' ');
  return `${publish(locals.filter((k) => fns.has(aliases.get(k) ?? k)))}\n${src}\n${publish(locals.filter((k) => !fns.has(aliases.get(k) ?? k)))}`;

  function from(spec: string): string {
    return spec.startsWith('.') ? `__import(${JSON.stringify(resolve(dir, spec))})` : `require(${JSON.stringify(spec)})`;
  }
  function checkCycleSafe(target: string, imported: string[], at: string): void {
    const text = sourceOf(target);
    for (const name of imported) {
      if (!new RegExp(`^export\\s+(?:async\\s+)?function\\*?\\s+${name}\\b`, 'm').test(text)) {
        throw new Error(`${at}: import cycle through ${name} of ${relative(process.cwd(), target)} cannot be bundled`);
      }
    }
  }
}

/** declares tells whether a (de-exported) module body declares `name` at the top level. */
function declares(src: string, name: string): boolean {
  return new RegExp(`^(?:(?:async\\s+)?function\\*?|class|const|let|var)\\s+${name.replace(/\$/g, '\\$')}\\b`, 'm').test(src);
}
