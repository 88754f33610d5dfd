// A large XDP program for the loader benchmark (bench/loader.ts): 1,024 unrolled parsing
// stages, each bounds-checking one more packet byte, folding it into a hash and writing the
// byte back (the store keeps clang from merging the checks), with a map lookup every 64
// stages. clang-14 -O2 compiles it to more than 10,000 instructions.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct stats {
	__u64 packets;
	__u64 hash;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct stats);
} stage_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

const volatile __u32 seed = 0x811c9dc5;
__u64 finished = 0;

#define STAGE(i)                                              \
	do {                                                      \
		if (p + (i) + 1 > end)                                \
			return ((i) & 1) ? XDP_DROP : XDP_PASS;           \
		h = (h ^ p[i]) * 0x01000193;                          \
		h ^= h >> 13;                                         \
		p[i] = (__u8)h;                                       \
	} while (0)

#define COUNT(k)                                              \
	do {                                                      \
		__u32 key = (k);                                      \
		struct stats *s = bpf_map_lookup_elem(&stage_stats, &key); \
		if (s) {                                              \
			s->packets++;                                     \
			s->hash ^= h;                                     \
		}                                                     \
	} while (0)

#define S4(i) STAGE(i); STAGE((i) + 1); STAGE((i) + 2); STAGE((i) + 3)
#define S16(i) S4(i); S4((i) + 4); S4((i) + 8); S4((i) + 12)
#define S64(i) S16(i); S16((i) + 16); S16((i) + 32); S16((i) + 48); COUNT((i) / 64)
#define S256(i) S64(i); S64((i) + 64); S64((i) + 128); S64((i) + 192)

SEC("xdp")
int big_parser(struct xdp_md *ctx)
{
	__u8 *p = (__u8 *)(long)ctx->data;
	__u8 *end = (__u8 *)(long)ctx->data_end;
	__u32 h = seed;

	S256(0);
	S256(256);
	S256(512);
	S256(768);

	__u64 one = 1, *v = bpf_map_lookup_elem(&seen, &h);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&seen, &h, &one, BPF_ANY);
	finished++;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
