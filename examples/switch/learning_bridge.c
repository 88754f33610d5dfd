/* Learning bridge (needs maps: waits for the switch's map support).
 * Learns source MAC -> ingress ifindex in a hash map, forwards known destinations with
 * bpf_redirect_map on a devmap, floods unknown and broadcast destinations to every other port
 * (BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS), and keeps a log2 histogram of frame sizes. */
#include "switch.h"

struct mac { unsigned char a[6]; };

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, struct mac);
  __type(value, __u32);
} mac_table SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, __u32);
} tx_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} size_log2 SEC(".maps");

static __always_inline __u32 log2_bucket(__u32 v)
{
  __u32 b = 0;
#pragma unroll
  for (int i = 0; i < 15; i++)
    if (v >> (i + 1))
      b = i + 1;
  return b;
}

SEC("xdp")
int learning_bridge(struct xdp_md *ctx)
{
  unsigned char *data = (unsigned char *)(long)ctx->data;
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  if (data + ETH_HLEN > end)
    return XDP_DROP;
  __u32 bucket = log2_bucket((__u32)(end - data));
  __u64 *cnt = bpf_map_lookup_elem(&size_log2, &bucket);
  if (cnt)
    *cnt += 1;
  struct mac src, dst;
  __builtin_memcpy(dst.a, data, 6);
  __builtin_memcpy(src.a, data + 6, 6);
  __u32 in = ctx->ingress_ifindex;
  /* learn only what is new or moved: a lookup is lock-free, an update takes the map's lock,
   * so re-writing a known MAC on every frame would serialise the workers */
  if (!(src.a[0] & 1)) {
    __u32 *known = bpf_map_lookup_elem(&mac_table, &src);
    if (!known || *known != in)
      bpf_map_update_elem(&mac_table, &src, &in, BPF_ANY);
  }
  __u32 *out = bpf_map_lookup_elem(&mac_table, &dst);
  if (out && *out != in)
    return bpf_redirect_map(&tx_ports, *out, 0);
  if (out)
    return XDP_DROP;
  return bpf_redirect_map(&tx_ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
}

char _license[] SEC("license") = "GPL";
