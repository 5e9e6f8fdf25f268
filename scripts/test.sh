#!/usr/bin/env bash
# Sets up and runs the whole test suite:
#   1. installs dependencies (scripts/install-deps.sh),
#   2. starts the real peers (moto with signature checking, a second moto for STS,
#      SeaweedFS, gcp-storage-emulator, our fault server),
#   3. `swift test` (unit and integration tests, with the built CLI),
#   4. static checks: alert rules (promtool), the systemd unit (systemd-analyze),
#   5. the daemon end-to-end suite (pytest: Prometheus, journald, systemd notify, load),
# and stops the peers again whatever happened.
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh --filter Moto   # only `swift test --filter Moto` (steps 4-5 skipped)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bash scripts/install-deps.sh
trap 'bash scripts/peers.sh stop >/dev/null 2>&1 || true' EXIT
bash scripts/peers.sh start
swift test "$@"
if [ "$#" -eq 0 ]; then
  bash scripts/check-static.sh
  bash scripts/e2e.sh
fi
