#!/usr/bin/env bash
# Installs what tsbpf needs on a fresh machine and builds it. Idempotent.
# - Debian packages for the kernel/clang/network tests (clang-14, llvm-14, bpftool, libbpf-dev, tcpdump,
#   iputils-ping, iproute2)
#   when running as root with apt-get; otherwise those tests skip with a printed reason.
# - npm dependencies (no install scripts needed: koffi ships its native binaries).
# - the TypeScript build into dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v clang-14 >/dev/null || need_apt+=(clang-14)
command -v llvm-objdump-14 >/dev/null || need_apt+=(llvm-14)
command -v bpftool >/dev/null || need_apt+=(bpftool)
[ -e /usr/include/bpf/bpf_helpers.h ] || need_apt+=(libbpf-dev)
command -v tcpdump >/dev/null || need_apt+=(tcpdump)
command -v ping >/dev/null || need_apt+=(iputils-ping)
command -v ip >/dev/null || need_apt+=(iproute2)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${need_apt[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: not root or no apt-get; missing ${need_apt[*]} (kernel/clang/tcpdump tests will skip)"
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

echo "setup: building"
npm run --silent build
