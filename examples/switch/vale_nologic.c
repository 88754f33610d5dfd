/* No-logic forwarder, VALE-BPF style: every frame from port i leaves on port i ^ 1. */
#include "switch.h"

SEC("vale")
int vale_nologic(struct vale_bpf_md *md)
{
  return md->ingress_port ^ 1;
}

char _license[] SEC("license") = "GPL";
