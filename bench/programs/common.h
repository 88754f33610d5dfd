/* Shared definitions for the benchmark programs. They are XDP programs so the same object
 * runs in the kernel (BPF_PROG_TEST_RUN) and in tsbpf (with an xdp_md context). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define DATA(ctx) ((unsigned char *)(long)(ctx)->data)
#define DATA_END(ctx) ((unsigned char *)(long)(ctx)->data_end)
