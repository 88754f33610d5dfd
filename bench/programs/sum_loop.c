/* sum_loop: sums 0..999 with a data-dependent start, a pure ALU/branch loop. */
#include "common.h"

SEC("xdp")
int sum_loop(struct xdp_md *ctx)
{
	unsigned char *d = DATA(ctx);
	if (d + 1 > DATA_END(ctx))
		return 0;
	unsigned long long sum = d[0];
	for (unsigned int i = 0; i < 1000; i++)
		sum += i ^ (sum >> 3);
	return (int)(sum & 0x7fffffff);
}

char LICENSE[] SEC("license") = "GPL";
