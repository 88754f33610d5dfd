/**
 * Turning the -errno results of map operations into BpfErrors with the matching code.
 */
import { BpfError, type ErrorCode } from '../errors.js';
import { E2BIG, EBUSY, EEXIST, EINVAL, ENOENT, ENOMEM, ENOSPC, ENOTSUPP, EPERM } from '../maps/layout.js';

const CODES: Record<number, ErrorCode> = {
  [ENOENT]: 'ENOENT', [E2BIG]: 'E2BIG', [ENOMEM]: 'ENOMEM', [EEXIST]: 'EEXIST', [EINVAL]: 'EINVAL',
  [ENOSPC]: 'ENOSPC', [ENOTSUPP]: 'ENOTSUPP', [EPERM]: 'EPERM', [EBUSY]: 'EBUSY', 9: 'EBADF', 95: 'EOPNOTSUPP',
};

/** errnoError is the BpfError for a failed command `cmd` with result -errno. */
export function errnoError(cmd: string, negErrno: number): BpfError {
  const e = -negErrno;
  return new BpfError(CODES[e] ?? 'EINVAL', `${cmd}: ${CODES[e] ?? 'errno ' + e}`);
}

/** ERRNO_OF maps an error code back to its Linux errno (for comparisons with the kernel). */
export const ERRNO_OF: Partial<Record<ErrorCode, number>> = Object.fromEntries(
  Object.entries(CODES).map(([n, c]) => [c, Number(n)]));
