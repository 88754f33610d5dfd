/* Static L2 forwarder: destination MAC 02:00:00:00:00:NN goes out of ifindex NN (a locally
 * administered address plan), broadcast goes to the host stack (XDP_PASS), frames to any
 * other address or too short for an Ethernet header are dropped, and frames addressed to the
 * port they came in on are sent back out of it (XDP_TX) to show the action. */
#include "switch.h"

SEC("xdp")
int xdp_l2_static(struct xdp_md *ctx)
{
  unsigned char *data = (unsigned char *)(long)ctx->data;
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  if (data + ETH_HLEN > end)
    return XDP_DROP;
  if ((data[0] & data[1] & data[2] & data[3] & data[4] & data[5]) == 0xff)
    return XDP_PASS;
  if (data[0] != 0x02 || data[1] | data[2] | data[3] | data[4])
    return XDP_DROP;
  if (data[5] == ctx->ingress_ifindex)
    return XDP_TX;
  return bpf_redirect(data[5], 0);
}

char _license[] SEC("license") = "GPL";
