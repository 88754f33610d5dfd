/**
 * defineLazy: a property computed on first read, then stored as a plain data property (also
 * when assigned first). Specs stay plain data to their users (spreading, JSON and
 * structuredClone read the value), while parsing skips what loading never reads, such as
 * source line info, as libbpf leaves it raw until it is asked for.
 */
export function defineLazy<T extends object, K extends keyof T>(obj: T, key: K, compute: () => T[K]): void {
  const settle = (value: T[K]): T[K] => {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
    return value;
  };
  Object.defineProperty(obj, key, { get: () => settle(compute()), set: settle, enumerable: true, configurable: true });
}
