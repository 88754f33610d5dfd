#!/usr/bin/env bash
# The README's main job: set up, then run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bin/tsbpf demo          # assemble an example program, run it in the interpreter and the JIT
echo
bin/tsbpf demo switch   # the learning-bridge switch: live Mpps, MAC table, packet-size histogram
