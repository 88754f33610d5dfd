/**
 * The control socket of a running switch (the role of VALE-BPF's /dev/ebpf ioctls): a Unix
 * stream socket speaking one JSON request per line, one JSON response per line.
 *   {"cmd":"stats"}                                   -> per-port counters, trace, program
 *   {"cmd":"swap","object":BASE64,"section":S,...}    -> atomic program replacement
 *   {"cmd":"swap","asm":TEXT,"kind":"xdp"|"vale"}
 *   {"cmd":"maps"}                                    -> every map of the program, entries as hex
 * A swap takes effect between two rounds of the live loop, when no frame is in flight: every
 * frame is processed by exactly one program. Errors come back as {"ok":false,"code","message"}.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { BpfError, isBpfError } from '../core/errors.js';
import { programFromAsm, programFromObject, type ProgKind, type SwitchProgram } from './program.js';
import type { LiveLoop } from './live.js';

/** MapDump is one map as the control socket reports it. */
export interface MapDump {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** [key, value] as lowercase hex strings */
  entries: Array<[string, string]>;
}

/** ControlRequest is what a client may ask. */
export interface ControlRequest {
  cmd: 'stats' | 'swap' | 'maps';
  object?: string;
  asm?: string;
  section?: string;
  name?: string;
  kind?: ProgKind;
}

/** ControlOptions give the server what it cannot get from the live switch. */
export interface ControlOptions {
  /** loads a program (with its maps) for a swap; default: programFromObject / programFromAsm */
  load?: (req: ControlRequest) => SwitchProgram;
  /** lists the maps of the running program */
  maps?: () => MapDump[];
}

/** ControlServer serves requests for `live` (a LiveSwitch or a multi-worker MultiLive) on Unix socket `path`. */
export class ControlServer {
  private readonly server: Server;

  constructor(readonly live: LiveLoop, readonly path: string, private readonly opts: ControlOptions = {}) {
    this.server = createServer((sock) => this.serve(sock));
  }

  /** listen binds the socket (replacing a stale socket file). */
  listen(): Promise<void> {
    rmSync(this.path, { force: true });
    return new Promise((resolve, reject) => {
      this.server.once('error', (e) => reject(new BpfError('E_IO', `control socket ${this.path}: ${e.message}`)));
      this.server.listen(this.path, () => resolve());
    });
  }

  /** close stops listening and removes the socket file. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => {
      rmSync(this.path, { force: true });
      resolve();
    }));
  }

  private serve(sock: Socket): void {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      this.answer(line).then((res) => sock.end(`${JSON.stringify(res)}\n`));
    });
    sock.on('error', () => {});
  }

  private async answer(line: string): Promise<unknown> {
    try {
      const req = JSON.parse(line) as ControlRequest;
      return { ok: true, ...(await this.handle(req)) };
    } catch (e) {
      return { ok: false, code: isBpfError(e) ? e.code : 'EINVAL', message: (e as Error).message };
    }
  }

  private async handle(req: ControlRequest): Promise<Record<string, unknown>> {
    switch (req.cmd) {
      case 'stats':
        return { ...this.live.status() };
      case 'swap': {
        const prog = (this.opts.load ?? defaultLoad)(req);
        await this.live.swap(prog);
        return { program: { name: prog.name, kind: prog.kind } };
      }
      case 'maps':
        return { maps: this.opts.maps ? this.opts.maps() : [] };
      default:
        throw new BpfError('EINVAL', `unknown control command ${JSON.stringify((req as { cmd?: unknown }).cmd)}`);
    }
  }
}

function defaultLoad(req: ControlRequest): SwitchProgram {
  if (req.asm !== undefined) return programFromAsm(req.asm, req.kind ?? 'xdp', 'asm');
  if (req.object === undefined) throw new BpfError('EINVAL', 'swap needs "object" (base64 ELF) or "asm"');
  return programFromObject(new Uint8Array(Buffer.from(req.object, 'base64')), { section: req.section, name: req.name, kind: req.kind });
}

/** controlRequest sends one request to the switch listening on `path` and returns its answer. */
export function controlRequest(path: string, req: ControlRequest, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new BpfError('E_IO', `no answer from the switch at ${path}`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (c: string) => (data += c));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new BpfError('E_IO', `cannot reach the switch at ${path}: ${e.message}`));
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        const res = JSON.parse(data) as Record<string, unknown>;
        if (res.ok === false) reject(new BpfError(String(res.code) as never, String(res.message)));
        else resolve(res);
      } catch {
        reject(new BpfError('E_IO', `bad answer from the switch at ${path}`));
      }
    });
  });
}
