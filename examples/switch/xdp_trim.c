/* Sampling-style truncation with bpf_xdp_adjust_tail: frames longer than 96 bytes are cut to
 * 96 and go to ifindex 2; shorter frames are padded to 64 bytes (the new bytes are zero) and
 * go to ifindex 3. Metadata (bpf_xdp_adjust_meta) carries the original length in front of the
 * frame, and is copied into the last two bytes of the result to show it survived. */
#include "switch.h"

SEC("xdp")
int xdp_trim(struct xdp_md *ctx)
{
  unsigned char *data = (unsigned char *)(long)ctx->data;
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  unsigned int len = end - data;
  if (bpf_xdp_adjust_meta(ctx, -4))
    return XDP_ABORTED;
  data = (unsigned char *)(long)ctx->data;
  unsigned int *meta = (unsigned int *)(long)ctx->data_meta;
  if ((unsigned char *)(meta + 1) > data)
    return XDP_ABORTED;
  *meta = len;
  int target = len > 96 ? 96 : len < 64 ? 64 : len;
  if (bpf_xdp_adjust_tail(ctx, target - (int)len))
    return XDP_ABORTED;
  data = (unsigned char *)(long)ctx->data;
  end = (unsigned char *)(long)ctx->data_end;
  meta = (unsigned int *)(long)ctx->data_meta;
  /* the last two bytes are addressed from data, bounds-checked: the verifier refuses any
   * access through data_end itself */
  unsigned char *tail = data + (target - 2);
  if ((unsigned char *)(meta + 1) > data || data + 64 > end || tail + 2 > end)
    return XDP_ABORTED;
  tail[0] = *meta >> 8;
  tail[1] = *meta;
  return bpf_redirect(len > 96 ? 2 : 3, 0);
}

char _license[] SEC("license") = "GPL";
