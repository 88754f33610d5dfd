/* Drops every frame: the receiving end of the benchmark's live-frames measurements (a veth
 * peer needs an XDP program for frames redirected to its partner to be delivered). */
#include "switch.h"

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
  return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
