/* parse_udp: parses Ethernet/IPv4/UDP, verifies the IPv4 header checksum, returns the UDP
 * destination port (or 0 when anything does not parse). */
#include "common.h"
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

static __always_inline unsigned short csum_fold(unsigned int sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned short)~sum;
}

SEC("xdp")
int parse_udp(struct xdp_md *ctx)
{
	unsigned char *d = DATA(ctx), *end = DATA_END(ctx);
	struct ethhdr *eth = (void *)d;
	if ((void *)(eth + 1) > (void *)end)
		return 0;
	if (eth->h_proto != __builtin_bswap16(ETH_P_IP))
		return 0;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > (void *)end)
		return 0;
	if (ip->ihl != 5 || ip->protocol != 17)
		return 0;
	unsigned short *w = (void *)ip;
	unsigned int sum = 0;
#pragma clang loop unroll(full)
	for (int i = 0; i < 10; i++)
		sum += w[i];
	if (csum_fold(sum) != 0)
		return 0;
	struct udphdr *udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > (void *)end)
		return 0;
	return __builtin_bswap16(udp->dest);
}

char LICENSE[] SEC("license") = "GPL";
