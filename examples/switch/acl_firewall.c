/* ACL firewall (needs maps: waits for the switch's map support).
 * Looks the IPv4 source address up in an LPM trie of prefixes; a match with action 1 drops
 * the frame, anything else is forwarded port i -> port i ^ 1. Non-IPv4 frames pass through. */
#include "switch.h"
#include <linux/ip.h>

struct lpm_key { __u32 prefixlen; __u32 addr; };

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 1024);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct lpm_key);
  __type(value, __u32);
} acl SEC(".maps");

SEC("xdp")
int acl_firewall(struct xdp_md *ctx)
{
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  struct ethhdr *eth = (void *)(long)ctx->data;
  struct iphdr *ip = (void *)(eth + 1);
  __u32 out = IFINDEX_OF_PORT(PORT_OF_IFINDEX(ctx->ingress_ifindex) ^ 1);
  if ((void *)(ip + 1) > (void *)end)
    return XDP_DROP;
  if (eth->h_proto == __builtin_bswap16(ETH_P_IP)) {
    struct lpm_key k = { 32, ip->saddr };
    __u32 *action = bpf_map_lookup_elem(&acl, &k);
    if (action && *action == 1)
      return XDP_DROP;
  }
  return bpf_redirect(out, 0);
}

char _license[] SEC("license") = "GPL";
