/**
 * The object API: `BpfMap` wraps a map of a Runtime with typed key and value codecs
 * (get / set / delete / has, iteration in get_next_key order, a live view of array values);
 * `PerCpuMap` does the same with one value per CPU (arrays of values).
 */
import { BpfError, isBpfError } from '../errors.js';
import { BPF_ANY, BPF_MAP_TYPE_ARRAY, isPerCpu, round8 } from '../maps/layout.js';
import { bytes, type Codec } from './codecs.js';
import * as cmd from './commands.js';
import type { MapInfo, Runtime } from './runtime.js';

/** MapOptions create a map for the object API. */
export interface MapOptions<K, V> extends cmd.MapCreateAttr {
  key?: Codec<K>;
  value?: Codec<V>;
}

function orNull<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (isBpfError(e) && e.code === 'ENOENT') return undefined;
    throw e;
  }
}

/** MapBase holds what both flavours share: keys, deletion, iteration. */
abstract class MapBase<K, V> {
  readonly info: MapInfo;
  constructor(readonly rt: Runtime, readonly fd: number, readonly key: Codec<K>, readonly value: Codec<V>) {
    this.info = rt.map(fd);
    if (key.size !== this.info.keySize) throw new BpfError('EINVAL', `key codec is ${key.size} bytes, map key ${this.info.keySize}`);
    if (value.size !== this.info.valueSize) throw new BpfError('EINVAL', `value codec is ${value.size} bytes, map value ${this.info.valueSize}`);
  }

  /** delete removes `k`; false when it was not there. */
  delete(k: K): boolean {
    return orNull(() => {
      cmd.mapDeleteElem(this.rt, this.fd, this.key.encode(k));
      return true;
    }) ?? false;
  }

  /** has tells whether `k` has a value. */
  has(k: K): boolean {
    return orNull(() => cmd.mapLookupElem(this.rt, this.fd, this.key.encode(k))) !== undefined;
  }

  /** keys iterates the keys in get_next_key order (a key deleted meanwhile restarts a hash walk, as in Linux). */
  *keys(): IterableIterator<K> {
    let k: Uint8Array | undefined;
    for (;;) {
      const prev: Uint8Array | null = k ?? null;
      k = orNull(() => cmd.mapGetNextKey(this.rt, this.fd, prev));
      if (!k) return;
      yield this.key.decode(k);
    }
  }

  /** clear deletes every key (hash maps). */
  clear(): void {
    for (const k of [...this.keys()]) this.delete(k);
  }

  /** size counts the keys (iterates). */
  get size(): number {
    let n = 0;
    for (const _ of this.keys()) n++;
    return n;
  }
}

/** BpfMap is a map with one value per key. */
export class BpfMap<K = Uint8Array, V = Uint8Array> extends MapBase<K, V> {
  /** create makes a new map in `rt` (codecs default to raw bytes). */
  static create<K = Uint8Array, V = Uint8Array>(rt: Runtime, o: MapOptions<K, V>): BpfMap<K, V> {
    if (isPerCpu(o.mapType)) throw new BpfError('EINVAL', 'per-CPU map: use PerCpuMap');
    const fd = cmd.mapCreate(rt, o);
    return new BpfMap(rt, fd, o.key ?? (bytes(o.keySize) as unknown as Codec<K>), o.value ?? (bytes(o.valueSize) as unknown as Codec<V>));
  }

  /** get returns the value of `k`, or undefined. */
  get(k: K): V | undefined {
    const v = orNull(() => cmd.mapLookupElem(this.rt, this.fd, this.key.encode(k)));
    return v && this.value.decode(v);
  }

  /** set stores `v` under `k` (flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST). */
  set(k: K, v: V, flags = BPF_ANY): this {
    cmd.mapUpdateElem(this.rt, this.fd, this.key.encode(k), this.value.encode(v), flags);
    return this;
  }

  /** entries iterates [key, value] pairs. */
  *entries(): IterableIterator<[K, V]> {
    for (const k of this.keys()) {
      const v = this.get(k);
      if (v !== undefined) yield [k, v];
    }
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /**
   * view is a live byte view of an array map's values (element i at i * round8(value_size)),
   * like mmap() of a BPF_F_MMAPABLE array. It is detached when the memory grows: take a new one.
   */
  view(): Uint8Array {
    if (this.info.mapType !== BPF_MAP_TYPE_ARRAY) throw new BpfError('EINVAL', 'only array maps have a value view');
    return new Uint8Array(this.rt.space.memory.buffer, this.info.values, this.info.valuesSize);
  }
}

/** PerCpuMap is a per-CPU map: values are arrays with one entry per CPU of the runtime. */
export class PerCpuMap<K = Uint8Array, V = Uint8Array> extends MapBase<K, V> {
  /** create makes a new per-CPU map in `rt`. */
  static create<K = Uint8Array, V = Uint8Array>(rt: Runtime, o: MapOptions<K, V>): PerCpuMap<K, V> {
    if (!isPerCpu(o.mapType)) throw new BpfError('EINVAL', 'not a per-CPU map type: use BpfMap');
    const fd = cmd.mapCreate(rt, o);
    return new PerCpuMap(rt, fd, o.key ?? (bytes(o.keySize) as unknown as Codec<K>), o.value ?? (bytes(o.valueSize) as unknown as Codec<V>));
  }

  /** get returns the per-CPU values of `k` (index = CPU), or undefined. */
  get(k: K): V[] | undefined {
    const raw = orNull(() => cmd.mapLookupElem(this.rt, this.fd, this.key.encode(k)));
    if (!raw) return undefined;
    const stride = round8(this.info.valueSize);
    return [...Array(this.rt.ncpus).keys()].map((c) => this.value.decode(raw.slice(c * stride, c * stride + this.info.valueSize)));
  }

  /** set stores one value per CPU (`vs.length` = CPU count), or the same value on every CPU. */
  set(k: K, vs: V | V[], flags = BPF_ANY): this {
    const n = this.rt.ncpus, stride = round8(this.info.valueSize);
    const all = Array.isArray(vs) ? vs : Array<V>(n).fill(vs);
    if (all.length !== n) throw new BpfError('EINVAL', `expected ${n} per-CPU values, got ${all.length}`);
    const buf = new Uint8Array(stride * n);
    all.forEach((v, c) => buf.set(this.value.encode(v), c * stride));
    cmd.mapUpdateElem(this.rt, this.fd, this.key.encode(k), buf, flags);
    return this;
  }

  /** entries iterates [key, per-CPU values] pairs. */
  *entries(): IterableIterator<[K, V[]]> {
    for (const k of this.keys()) {
      const v = this.get(k);
      if (v !== undefined) yield [k, v];
    }
  }

  [Symbol.iterator](): IterableIterator<[K, V[]]> {
    return this.entries();
  }

  /** sum adds up a numeric per-CPU value (counters). */
  static sum(vs: ReadonlyArray<number | bigint>): bigint {
    return vs.reduce<bigint>((a, v) => a + BigInt(v), 0n);
  }
}
