/**
 * The engines the conformance corpus runs on. This is the one place a new engine is added:
 * append an entry to ENGINE_MODULES (module path relative to this file, and the export name).
 * Engines whose module is not there yet are listed with the reason, so tests can skip them.
 */
import type { Engine } from '../../src/core/vm/engine.js';

/** EngineModule names where an engine lives. */
interface EngineModule {
  name: string;
  /** module specifier relative to this file (compiled: dist/test/conformance) */
  module: string;
  /** name of the exported Engine object */
  export: string;
}

const ENGINE_MODULES: EngineModule[] = [
  { name: 'interpreter', module: '../../src/core/vm/interpreter.js', export: 'interpreter' },
  { name: 'jit', module: '../../src/core/jit/index.js', export: 'jit' },
];

/** EngineEntry is an engine that could be imported, or the reason it could not. */
export interface EngineEntry {
  name: string;
  engine?: Engine;
  missing?: string;
}

function isEngine(x: unknown): x is Engine {
  return typeof x === 'object' && x !== null && typeof (x as Engine).load === 'function';
}

async function importEngine(m: EngineModule): Promise<EngineEntry> {
  try {
    const mod = (await import(new URL(m.module, import.meta.url).href)) as Record<string, unknown>;
    const engine = mod[m.export];
    if (!isEngine(engine)) return { name: m.name, missing: `${m.module} does not export an Engine named ${m.export}` };
    return { name: m.name, engine };
  } catch (e) {
    return { name: m.name, missing: `cannot import ${m.module}: ${(e as Error).message}` };
  }
}

/** ENGINES lists every engine of ENGINE_MODULES, imported when available. */
export const ENGINES: EngineEntry[] = await Promise.all(ENGINE_MODULES.map(importEngine));
