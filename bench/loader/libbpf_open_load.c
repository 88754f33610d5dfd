// libbpf side of the loader benchmark (bench/loader.ts): opens and loads one object from memory
// N times, as bpf_object__open_mem + bpf_object__load (parse, relocate, create maps, kernel
// verifier and JIT), closing it each time, and prints the median times in nanoseconds:
//   open_load_ns <median open+load> open_ns <median open> load_ns <median load> runs <N>
//   min_open_load_ns <fastest open+load> min_open_ns <fastest open>
// Build: cc -O2 -o libbpf_open_load libbpf_open_load.c -lbpf
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

static long long median(long long *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	fseek(f, 0, SEEK_SET);
	void *buf = malloc(*len);
	if (buf && fread(buf, 1, *len, f) != *len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s OBJ RUNS\n", argv[0]);
		return 2;
	}
	int runs = atoi(argv[2]);
	size_t len;
	void *buf = read_file(argv[1], &len);
	if (!buf || runs < 1) {
		fprintf(stderr, "cannot read %s\n", argv[1]);
		return 2;
	}
	libbpf_set_print(NULL);
	long long *both = calloc(runs, sizeof(long long)), *open = calloc(runs, sizeof(long long)), *load = calloc(runs, sizeof(long long));
	for (int i = 0; i < runs; i++) {
		long long t0 = now_ns();
		struct bpf_object *obj = bpf_object__open_mem(buf, len, NULL);
		long long t1 = now_ns();
		int err = obj ? bpf_object__load(obj) : -errno;
		long long t2 = now_ns();
		bpf_object__close(obj);
		if (err) {
			fprintf(stderr, "load failed: %s\n", strerror(-err));
			return 1;
		}
		open[i] = t1 - t0;
		load[i] = t2 - t1;
		both[i] = t2 - t0;
	}
	long long mb = median(both, runs), mo = median(open, runs), ml = median(load, runs);
	/* median() sorted the arrays: element 0 is the fastest run */
	printf("open_load_ns %lld open_ns %lld load_ns %lld runs %d min_open_load_ns %lld min_open_ns %lld\n", mb, mo, ml, runs, both[0], open[0]);
	return 0;
}
