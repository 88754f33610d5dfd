/* Small L4 load balancer (needs maps: waits for the switch's map support).
 * Hashes the IPv4/UDP 5-tuple into a 256-slot lookup table (an array map filled by the
 * control plane with a consistent-hashing permutation, so removing a backend only moves its
 * own flows), picks the backend from a second array map, rewrites the destination MAC and
 * redirects to the backend's port. */
#include "switch.h"
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>

#define LUT_SIZE 256

struct backend { __u32 ifindex; unsigned char mac[6]; __u16 pad; };

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, LUT_SIZE);
  __type(key, __u32);
  __type(value, __u32);
} lut SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, struct backend);
} backends SEC(".maps");

static __always_inline __u32 mix(__u32 h, __u32 v)
{
  h ^= v;
  h *= 0x9e3779b1;
  return h ^ (h >> 15);
}

SEC("xdp")
int l4_lb(struct xdp_md *ctx)
{
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  struct ethhdr *eth = (void *)(long)ctx->data;
  struct iphdr *ip = (void *)(eth + 1);
  struct udphdr *udp = (void *)(ip + 1);
  if ((void *)(udp + 1) > (void *)end || eth->h_proto != __builtin_bswap16(ETH_P_IP) || ip->ihl != 5 ||
      ip->protocol != IPPROTO_UDP)
    return XDP_PASS;
  __u32 h = mix(mix(mix(0, ip->saddr), ip->daddr), ((__u32)udp->source << 16) | udp->dest);
  __u32 slot = h % LUT_SIZE;
  __u32 *id = bpf_map_lookup_elem(&lut, &slot);
  if (!id)
    return XDP_ABORTED;
  struct backend *b = bpf_map_lookup_elem(&backends, id);
  if (!b || !b->ifindex)
    return XDP_DROP;
  __builtin_memcpy(eth->h_dest, b->mac, 6);
  return bpf_redirect(b->ifindex, 0);
}

char _license[] SEC("license") = "GPL";
