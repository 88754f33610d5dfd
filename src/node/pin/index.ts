/**
 * pin (Node): file-backed pinning. `openPinned(path)` opens a pinned map for commands like
 * `map dump pinned PATH`; `defaultPinRoot()` is where by-name pins and CLI pins live.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Runtime } from '../../core/runtime/runtime.js';
import { mapMeta, openPinnedMap, syncPins, type MapMeta } from '../../core/runtime/pin.js';
import type { MapInfo } from '../../core/runtime/runtime.js';
import { FilePinStore } from './file-store.js';

export { FilePinStore } from './file-store.js';

/** fileStore is the process's shared file pin store. */
export const fileStore = new FilePinStore();

/** defaultPinRoot is $TSBPF_PIN_ROOT, or tsbpf-pins in the temporary directory (like bpffs, not kept across reboots). */
export function defaultPinRoot(): string {
  return process.env.TSBPF_PIN_ROOT || join(tmpdir(), 'tsbpf-pins');
}

/** PinnedMap is an opened pinned map: its runtime, fd, attributes and BTF. */
export interface PinnedMap {
  rt: Runtime;
  fd: number;
  info: MapInfo;
  meta: MapMeta;
  /** sync writes the map's current contents back to its file */
  sync(): void;
}

/** openPinned opens the map pinned at `path` (in `rt`, or a new runtime). */
export function openPinned(path: string, rt: Runtime = new Runtime()): PinnedMap {
  const fd = openPinnedMap(rt, fileStore, path);
  return { rt, fd, info: rt.map(fd), meta: mapMeta(rt, fd), sync: () => syncPins(rt) };
}
