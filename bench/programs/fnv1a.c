/* fnv1a: the 32-bit FNV-1a hash of the first 64 bytes of the packet. */
#include "common.h"

SEC("xdp")
int fnv1a(struct xdp_md *ctx)
{
	unsigned char *d = DATA(ctx);
	if (d + 64 > DATA_END(ctx))
		return 0;
	unsigned int h = 2166136261u;
	for (int i = 0; i < 64; i++) {
		h ^= d[i];
		h *= 16777619u;
	}
	return (int)(h & 0x7fffffff);
}

char LICENSE[] SEC("license") = "GPL";
