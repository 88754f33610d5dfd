/* Devmap egress programs. The main program redirects through a devmap whose values are
 * struct bpf_devmap_val: destination MAC 02:00:00:00:00:NN goes to key NN, ff:..:ff floods the
 * map (BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS). The egress program (SEC("xdp/devmap"), put in
 * an entry's bpf_prog.fd) stamps the frame on its way out: source MAC byte 5 = egress_ifindex,
 * byte 4 = ingress_ifindex; it pushes a 4-byte tag {0xee, egress ifindex, 0, 0} in front of
 * frames whose last byte is 0x7e (adjust_head), and drops frames going to ifindex 4. */
#include "switch.h"

struct {
  __uint(type, BPF_MAP_TYPE_DEVMAP);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, struct bpf_devmap_val);
} out_ports SEC(".maps");

SEC("xdp")
int devmap_redirect(struct xdp_md *ctx)
{
  unsigned char *data = (unsigned char *)(long)ctx->data;
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  if (data + ETH_HLEN > end)
    return XDP_DROP;
  if (data[0] == 0xff)
    return bpf_redirect_map(&out_ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
  return bpf_redirect_map(&out_ports, data[5], XDP_DROP);
}

SEC("xdp/devmap")
int egress_stamp(struct xdp_md *ctx)
{
  unsigned char *data = (unsigned char *)(long)ctx->data;
  unsigned char *end = (unsigned char *)(long)ctx->data_end;
  if (ctx->egress_ifindex == 4)
    return XDP_DROP;
  if (data + ETH_HLEN > end)
    return XDP_ABORTED;
  data[10] = ctx->ingress_ifindex;
  data[11] = ctx->egress_ifindex;
  if (end[-1] != 0x7e)
    return XDP_PASS;
  if (bpf_xdp_adjust_head(ctx, -4))
    return XDP_ABORTED;
  data = (unsigned char *)(long)ctx->data;
  end = (unsigned char *)(long)ctx->data_end;
  if (data + 4 > end)
    return XDP_ABORTED;
  data[0] = 0xee;
  data[1] = ctx->egress_ifindex;
  data[2] = 0;
  data[3] = 0;
  return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
