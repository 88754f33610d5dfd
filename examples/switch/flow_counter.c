/* Flow counter (needs maps: waits for the switch's map support).
 * Counts packets and bytes per IPv4/UDP 5-tuple in an LRU hash, then forwards like the
 * no-logic forwarder (port i -> port i ^ 1). */
#include "switch.h"
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>

struct flow { __u32 saddr, daddr; __u16 sport, dport; __u8 proto, pad[3]; };
struct counts { __u64 packets, bytes; };

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct flow);
  __type(value, struct counts);
} flows SEC(".maps");

SEC("xdp")
int flow_counter(struct xdp_md *ctx)
{
  unsigned char *data = (unsigned char *)(long)ctx->data;
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  struct ethhdr *eth = (void *)data;
  struct iphdr *ip = (void *)(eth + 1);
  struct udphdr *udp = (void *)(ip + 1);
  __u32 out = IFINDEX_OF_PORT(PORT_OF_IFINDEX(ctx->ingress_ifindex) ^ 1);
  if ((void *)(udp + 1) > (void *)end || eth->h_proto != __builtin_bswap16(ETH_P_IP) || ip->ihl != 5 ||
      ip->protocol != IPPROTO_UDP)
    return bpf_redirect(out, 0);
  struct flow k = { .saddr = ip->saddr, .daddr = ip->daddr, .sport = udp->source, .dport = udp->dest, .proto = ip->protocol };
  struct counts *c = bpf_map_lookup_elem(&flows, &k);
  if (c) {
    __sync_fetch_and_add(&c->packets, 1);
    __sync_fetch_and_add(&c->bytes, end - data);
  } else {
    struct counts n = { 1, end - data };
    bpf_map_update_elem(&flows, &k, &n, BPF_NOEXIST);
  }
  return bpf_redirect(out, 0);
}

char _license[] SEC("license") = "GPL";
