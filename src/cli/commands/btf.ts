/**
 * `tsbpf btf dump file FILE`: the object's BTF types in bpftool's raw format.
 */
import { BpfError } from '../../core/errors.js';
import { findSection, parseElf } from '../../core/elf/index.js';
import { dumpBtfRaw, parseBtf } from '../../core/btf/index.js';
import type { CliIo } from '../io.js';
import { readFileChecked } from '../program-input.js';

const USAGE = 'usage: tsbpf btf dump file FILE';

/** btfCommand implements `tsbpf btf dump file FILE`. */
export async function btfCommand(argv: string[], io: CliIo): Promise<number> {
  const [dump, file, path, ...rest] = argv;
  if (dump !== 'dump' || file !== 'file' || path === undefined || rest.length > 0) throw new BpfError('EINVAL', USAGE);
  const sec = findSection(parseElf(readFileChecked(path, io)), '.BTF');
  if (!sec) throw new BpfError('ENOENT', `${path}: object has no .BTF section (compile with -g)`);
  io.stdout(dumpBtfRaw(parseBtf(sec.data)) + '\n');
  return 0;
}
