/**
 * FilePinStore: pinned objects as files. Each write goes to a temporary file in the same
 * directory, is fsynced, and is renamed over the old file (rename is atomic on POSIX file
 * systems), then the directory is fsynced: a crash at any point leaves the old complete file
 * or the new complete file, never a torn one. Leftover temporary files of a crashed writer
 * are ignored by readers and removed by later writes.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BpfError } from '../../core/errors.js';
import type { PinStore } from '../../core/runtime/pin.js';

const TMP = '.tsbpf-tmp-';

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some file systems refuse fsync on directories; the rename itself is still atomic
  }
}

/** FilePinStore implements PinStore over the file system. */
export class FilePinStore implements PinStore {
  /** read implements PinStore.read. */
  read(path: string): Uint8Array | null {
    try {
      return new Uint8Array(readFileSync(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new BpfError('E_PIN', `cannot read ${path}: ${(e as Error).message}`);
    }
  }

  /** write implements PinStore.write (temporary file, fsync, rename, fsync of the directory). */
  write(path: string, bytes: Uint8Array): void {
    const dir = dirname(path);
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `${TMP}${basename(path)}-${process.pid}`);
      const fd = openSync(tmp, 'w', 0o600);
      try {
        for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
      fsyncDir(dir);
    } catch (e) {
      throw new BpfError('E_PIN', `cannot pin at ${path}: ${(e as Error).message}`);
    }
  }

  /** remove implements PinStore.remove. */
  remove(path: string): boolean {
    try {
      unlinkSync(path);
      return true;
    } catch {
      return false;
    }
  }

  /** list implements PinStore.list (regular files under `dir`, temporaries skipped). */
  list(dir: string): string[] {
    const out: string[] = [];
    const walk = (d: string, depth: number): void => {
      let names: string[];
      try {
        names = readdirSync(d);
      } catch {
        return;
      }
      for (const n of names.sort()) {
        if (n.startsWith(TMP)) continue;
        const p = join(d, n);
        const st = statSync(p, { throwIfNoEntry: false });
        if (st?.isDirectory() && depth < 8) walk(p, depth + 1);
        else if (st?.isFile()) out.push(p);
      }
    };
    walk(dir, 0);
    return out;
  }
}
