/* No-logic forwarder, XDP style: every frame from port i is redirected to port i ^ 1. */
#include "switch.h"

SEC("xdp")
int xdp_nologic(struct xdp_md *ctx)
{
  unsigned int port = PORT_OF_IFINDEX(ctx->ingress_ifindex);
  return bpf_redirect(IFINDEX_OF_PORT(port ^ 1), 0);
}

char _license[] SEC("license") = "GPL";
