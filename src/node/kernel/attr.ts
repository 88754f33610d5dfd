/**
 * Hand-written layouts of the parts of `union bpf_attr` (include/uapi/linux/bpf.h) tsbpf uses.
 * Offsets are byte offsets into the union; pointer fields are `__aligned_u64` user addresses.
 * Everything is native-endian, and the kernel demands that bytes past the fields it knows are
 * zero, so the attr buffer starts zeroed and only listed fields are written.
 */

/** ATTR_SIZE is the size of the attr buffer passed to bpf(2) (covers every command used). */
export const ATTR_SIZE = 160;

/** BPF_MAP_CREATE: the first anonymous struct of union bpf_attr. */
export const MAP_CREATE = {
  map_type: 0, // __u32
  key_size: 4, // __u32
  value_size: 8, // __u32
  max_entries: 12, // __u32
  map_flags: 16, // __u32
  inner_map_fd: 20, // __u32
  numa_node: 24, // __u32
  map_name: 28, // char[16]
  map_ifindex: 44, // __u32
  btf_fd: 48, // __u32
  btf_key_type_id: 52, // __u32
  btf_value_type_id: 56, // __u32
  btf_vmlinux_value_type_id: 60, // __u32
  map_extra: 64, // __u64
} as const;

/** BPF_MAP_*_ELEM: map_fd, then key and value/next_key pointers, then flags. */
export const MAP_ELEM = {
  map_fd: 0, // __u32 (4 bytes padding follow)
  key: 8, // __aligned_u64 pointer
  value: 16, // __aligned_u64 pointer (aliases next_key)
  next_key: 16, // __aligned_u64 pointer
  flags: 24, // __u64
} as const;

/** BPF_PROG_LOAD fields. */
export const PROG_LOAD = {
  prog_type: 0, // __u32
  insn_cnt: 4, // __u32
  insns: 8, // __aligned_u64 pointer to struct bpf_insn[]
  license: 16, // __aligned_u64 pointer to a NUL-terminated string
  log_level: 24, // __u32
  log_size: 28, // __u32
  log_buf: 32, // __aligned_u64 pointer
  kern_version: 40, // __u32
  prog_flags: 44, // __u32
  prog_name: 48, // char[16]
  prog_ifindex: 64, // __u32
  expected_attach_type: 68, // __u32
  prog_btf_fd: 72, // __u32
} as const;

/** BPF_PROG_TEST_RUN fields (the `test` struct). */
export const TEST_RUN = {
  prog_fd: 0, // __u32
  retval: 4, // __u32 (output)
  data_size_in: 8, // __u32
  data_size_out: 12, // __u32 (input: buffer size; output: bytes written)
  data_in: 16, // __aligned_u64 pointer
  data_out: 24, // __aligned_u64 pointer
  repeat: 32, // __u32
  duration: 36, // __u32 (output: average ns per run)
  ctx_size_in: 40, // __u32
  ctx_size_out: 44, // __u32
  ctx_in: 48, // __aligned_u64 pointer
  ctx_out: 56, // __aligned_u64 pointer
  flags: 64, // __u32
  cpu: 68, // __u32
  batch_size: 72, // __u32
} as const;

/** putName writes a NUL-terminated object name (at most 15 chars) at `off`. */
export function putName(dv: DataView, off: number, name: string): void {
  const bytes = new TextEncoder().encode(name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 15));
  bytes.forEach((b, i) => dv.setUint8(off + i, b));
}
