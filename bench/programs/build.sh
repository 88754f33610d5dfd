#!/usr/bin/env bash
# Rebuilds the committed benchmark objects (needs clang-14 and libbpf-dev).
set -euo pipefail
cd "$(dirname "$0")"
for f in sum_loop fnv1a parse_udp xor_1500 fib; do
  clang-14 -target bpf -O2 -g -mcpu=v3 -I/usr/include/x86_64-linux-gnu -c "$f.c" -o "$f.o"
done
