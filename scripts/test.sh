#!/usr/bin/env bash
# The README's test command (and CI's): set up, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node scripts/test.mjs "$@"
