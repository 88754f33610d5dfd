/**
 * Engine selection for the CLI: `--engine interp|jit`. Engines are imported lazily so the
 * CLI starts fast and a missing engine gives a clear error instead of a crash.
 */
import { BpfError } from '../core/errors.js';
import type { Engine } from '../core/vm/engine.js';

/** ENGINE_NAMES lists the engines the CLI knows. */
export const ENGINE_NAMES = ['jit', 'interp'] as const;

/** DEFAULT_ENGINE is the engine used when --engine is not given. */
export const DEFAULT_ENGINE = 'jit';

/** loadEngine returns the engine called `name`. */
export async function loadEngine(name: string = DEFAULT_ENGINE): Promise<Engine> {
  switch (name) {
    case 'interp':
    case 'interpreter':
      return (await import('../core/vm/interpreter.js')).interpreter;
    case 'jit':
      return (await import('../core/jit/index.js')).jit;
    default:
      throw new BpfError('EINVAL', `unknown engine "${name}" (expected one of: ${ENGINE_NAMES.join(', ')})`);
  }
}
