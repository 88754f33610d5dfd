/* Pushes an 802.1Q tag (VLAN 100) on untagged frames with bpf_xdp_adjust_head and sends them
 * back out of their port (XDP_TX); tagged frames get their tag popped and go to ifindex 2.
 * Shows header growth and shrinking in front of the frame. */
#include "switch.h"

#define VLAN_ID 100

SEC("xdp")
int xdp_vlan_push(struct xdp_md *ctx)
{
  unsigned char *data = (unsigned char *)(long)ctx->data;
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  if (data + 18 > end)
    return XDP_DROP;
  if (data[12] == 0x81 && data[13] == 0x00) {
    /* pop: move the MACs 4 bytes up, then drop the first 4 bytes */
    for (int i = 11; i >= 0; i--)
      data[i + 4] = data[i];
    if (bpf_xdp_adjust_head(ctx, 4))
      return XDP_ABORTED;
    return bpf_redirect(2, 0);
  }
  if (bpf_xdp_adjust_head(ctx, -4))
    return XDP_DROP;
  data = (unsigned char *)(long)ctx->data;
  end = (unsigned char *)(long)ctx->data_end;
  if (data + 18 > end)
    return XDP_ABORTED;
  for (int i = 0; i < 12; i++)
    data[i] = data[i + 4];
  data[12] = 0x81;
  data[13] = 0x00;
  data[14] = VLAN_ID >> 8;
  data[15] = VLAN_ID & 0xff;
  return XDP_TX;
}

char _license[] SEC("license") = "GPL";
