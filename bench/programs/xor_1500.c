/* xor_1500: XOR of a 1500-byte packet, 8 bytes at a time. */
#include "common.h"

SEC("xdp")
int xor_1500(struct xdp_md *ctx)
{
	unsigned char *d = DATA(ctx);
	if (d + 1500 > DATA_END(ctx))
		return 0;
	unsigned long long x = 0;
	for (int i = 0; i + 8 <= 1496; i += 8)
		x ^= *(unsigned long long *)(d + i);
	x ^= *(unsigned int *)(d + 1496);
	return (int)((x ^ (x >> 32)) & 0x7fffffff);
}

char LICENSE[] SEC("license") = "GPL";
