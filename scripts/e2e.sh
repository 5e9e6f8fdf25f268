#!/usr/bin/env bash
# Daemon end-to-end tests (Tests/e2e): `bucketwatch run` against the real peers, a real
# Prometheus with Config/prometheus/alerts.yml, a hand-started systemd-journald, a
# NOTIFY_SOCKET stand-in and wrk. Assumes the peers are up (bash scripts/peers.sh start)
# and the binary is built (swift build --product bucketwatch); exits non-zero on failure.
#   BUCKETWATCH_BINARY=PATH   test another binary (default .build/debug/bucketwatch)
#   extra arguments go to pytest, e.g.  bash scripts/e2e.sh -k notify
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
exec "${PYTHON:-python3}" -m pytest -q --tb=short -p no:cacheprovider Tests/e2e "$@"
