#!/usr/bin/env bash
# Sets up and runs the whole test suite: installs dependencies, starts the real
# peers (moto with signature checking, SeaweedFS, our fault server), runs
# `swift test`, and stops the peers again whatever happened.
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh --filter Moto   # extra arguments go to `swift test`
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bash scripts/install-deps.sh
trap 'bash scripts/peers.sh stop >/dev/null 2>&1 || true' EXIT
bash scripts/peers.sh start
swift test "$@"
