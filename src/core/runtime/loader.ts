/**
 * The libbpf-style entry points over bytes: `openObject` (bpf_object__open: parse, keep the
 * raw BTF for map pretty-printing, nothing live yet) and `loadObjectBytes` (open + load).
 */
import { parseObjectRaw } from '../elf/object-spec.js';
import { patchDatasecs } from '../btf/patch.js';
import type { ObjectSpec } from '../elf/spec.js';
import type { Runtime } from './runtime.js';
import { loadObject, type LoadObjectOptions } from './object.js';
import type { Collection } from './object-collection.js';

/** OpenedObject is a parsed object ready to be adjusted (globals) and loaded. */
export interface OpenedObject {
  spec: ObjectSpec;
  /** the raw .BTF section (null without -g) */
  btfBytes: Uint8Array | null;
}

/** openObject parses an ELF BPF object without creating anything live. */
export function openObject(bytes: Uint8Array): OpenedObject {
  const { spec, btfSection } = parseObjectRaw(bytes);
  // the DATASEC sizes and offsets parsing filled in go into the kept blob too, as libbpf's does
  return { spec, btfBytes: btfSection && spec.btf ? patchDatasecs(btfSection, spec.btf) : null };
}

/** loadObjectBytes opens and loads an object into `rt`. */
export function loadObjectBytes(rt: Runtime, bytes: Uint8Array, opts: LoadObjectOptions = {}): Collection {
  const o = openObject(bytes);
  return loadObject(rt, o.spec, { btfBytes: o.btfBytes, ...opts });
}
