// A large XDP program for bench/verifier.ts: 200 blocks, each a bounded loop (8 iterations,
// not unrolled) hashing the first 64 packet bytes (one data_end check), with data-dependent branches and
// a stack array. Over 5,000 instructions; both verifiers explore every loop iteration.
// Build: ./build.sh (clang-14 -O2 -g -target bpf).
#include <linux/bpf.h>
#define SEC(n) __attribute__((section(n), used))

#define BLOCK(N) \
	{ \
		__u32 i; \
		_Pragma("clang loop unroll(disable)") \
		for (i = 0; i < 8; i++) { \
			__u32 off = (i * 7 + (N)) & 63; \
			h = (h ^ data[off]) * (16777619u + (N)); \
			if (h & (1u << ((N) % 31))) \
				h += (N) * 2654435761u; \
			else \
				h ^= h >> (((N) % 13) + 1); \
		} \
		v[(N) & 7] += h; \
	}
#define B5(N) BLOCK(N) BLOCK(N + 1) BLOCK(N + 2) BLOCK(N + 3) BLOCK(N + 4)
#define B25(N) B5(N) B5(N + 5) B5(N + 10) B5(N + 15) B5(N + 20)
#define B100(N) B25(N) B25(N + 25) B25(N + 50) B25(N + 75)

SEC("xdp")
int xdp_large(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *data_end = (unsigned char *)(long)ctx->data_end;
	volatile __u64 v[8] = {0};
	__u32 h = 2166136261u;
	if (data + 64 > data_end)
		return XDP_PASS;
	B100(0)
	B100(100)
	return (v[0] ^ v[1] ^ v[2] ^ v[3] ^ v[4] ^ v[5] ^ v[6] ^ v[7]) & 3;
}

char _license[] SEC("license") = "GPL";
