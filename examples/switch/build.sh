#!/usr/bin/env bash
# Rebuilds the committed switch example objects (needs clang-14 and libbpf-dev).
set -euo pipefail
cd "$(dirname "$0")"
for f in *.c; do
  clang-14 -target bpf -O2 -g -mcpu=v3 -I/usr/include/x86_64-linux-gnu -c "$f" -o "${f%.c}.o"
done
