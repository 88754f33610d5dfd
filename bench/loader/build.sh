#!/usr/bin/env bash
# Rebuilds the committed loader benchmark object (needs clang-14 and libbpf-dev).
set -euo pipefail
cd "$(dirname "$0")"
clang-14 -target bpf -O2 -g -mcpu=v3 -I/usr/include/x86_64-linux-gnu -c big_parser.c -o big_parser.o
