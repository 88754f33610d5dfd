/* fib: the 90th Fibonacci number modulo 2^64, by a loop; the start comes from the packet so
 * the compiler cannot fold it. */
#include "common.h"

SEC("xdp")
int fib(struct xdp_md *ctx)
{
	unsigned char *d = DATA(ctx);
	if (d + 1 > DATA_END(ctx))
		return 0;
	unsigned long long a = d[0], b = 1;
	for (int i = 0; i < 90; i++) {
		unsigned long long t = a + b;
		a = b;
		b = t;
	}
	return (int)(a & 0x7fffffff);
}

char LICENSE[] SEC("license") = "GPL";
