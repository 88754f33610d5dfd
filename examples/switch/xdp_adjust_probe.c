/* Exercises bpf_xdp_adjust_meta / _head / _tail with deltas taken from the frame itself, so
 * one object probes every limit: the UDP payload (offset 42) holds three little-endian s16
 * deltas (meta, head, tail), applied in that order. The verdict packs the helpers' return
 * values (low byte each: 0 = ok, 0xea = -EINVAL, 0xf3 = -EACCES) as meta << 16 | head << 8
 * | tail. Afterwards the program stamps what it sees: the first three bytes of the frame get
 * the three return values, and four bytes of metadata (when there are at least four) get
 * 0xc0ffee00 | metadata length. The kernel's BPF_PROG_TEST_RUN and tsbpf's switch must agree
 * on the verdict and on every byte of metadata + frame. */
#include "switch.h"

SEC("xdp")
int xdp_adjust_probe(struct xdp_md *ctx)
{
  unsigned char *data = (unsigned char *)(long)ctx->data;
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  if (data + 48 > end)
    return XDP_DROP;
  short dm = *(short *)(data + 42), dh = *(short *)(data + 44), dt = *(short *)(data + 46);
  long rm = bpf_xdp_adjust_meta(ctx, dm);
  long rh = bpf_xdp_adjust_head(ctx, dh);
  long rt = bpf_xdp_adjust_tail(ctx, dt);
  data = (unsigned char *)(long)ctx->data;
  end = (unsigned char *)(long)ctx->data_end;
  unsigned char *meta = (unsigned char *)(long)ctx->data_meta;
  if (data + 3 <= end) {
    data[0] = rm;
    data[1] = rh;
    data[2] = rt;
  }
  if (meta + 4 <= data)
    *(unsigned int *)meta = 0xc0ffee00 | (unsigned int)(data - meta);
  return ((rm & 0xff) << 16) | ((rh & 0xff) << 8) | (rt & 0xff);
}

char _license[] SEC("license") = "GPL";
