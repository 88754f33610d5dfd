#!/bin/sh
# Rebuilds the verifier benchmark's large program from its C source.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-14}
$CLANG -target bpfel -O2 -g -fdebug-prefix-map="$(pwd)=." -Wall -I"/usr/include/$(uname -m)-linux-gnu" -c large.c -o large.o
