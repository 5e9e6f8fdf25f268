#!/usr/bin/env bash
# Demo of `bucketwatch check` without cloud credentials: starts a local S3 server
# (moto, signature checking on), seeded with W&B buckets in compliant and drifted
# shapes, and checks one compliant and one drifted bucket against the wandb-byob
# baseline; then runs the daemon for a few seconds and shows its /metrics.
# `check` exits 1 here (one bucket has drifted); the demo itself exits 0 when
# everything behaved as described, non-zero otherwise.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bash scripts/install-deps.sh
swift build -c debug --product bucketwatch 2>&1 | tail -1
trap 'bash scripts/peers.sh stop >/dev/null 2>&1 || true' EXIT
bash scripts/peers.sh start

DEMO=$ROOT/.peers/demo
mkdir -p "$DEMO"
# The seeded reader's keys go into an AWS credentials file (mode 600), as an admin would
# hand them to bucketwatch; they are never printed.
python3 - "$ROOT/.peers/moto.json" "$DEMO" <<'PY'
import json, os, sys
moto = json.load(open(sys.argv[1])); out = sys.argv[2]
creds = os.path.join(out, "credentials")
fd = os.open(creds, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, ("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
              % (moto["reader"]["access_key_id"], moto["reader"]["secret_access_key"])).encode())
os.close(fd)
with open(os.path.join(out, "bucketwatch.yaml"), "w") as f:
    f.write(f"""# Demo config: two W&B BYOB buckets on a local S3 server.
interval: 5m
listen_address: 127.0.0.1:9750
stores:
  - name: team-compliant
    provider: aws
    bucket: bw-compliant
    region: us-east-1
    endpoint: {moto['endpoint']}
    path_style: true
    deployment: saas
    credentials_file: {creds}
  - name: team-drifted
    provider: aws
    bucket: bw-versioning-suspended
    region: us-east-1
    endpoint: {moto['endpoint']}
    path_style: true
    deployment: saas
    credentials_file: {creds}
""")
PY

echo
echo "\$ bucketwatch check --config $DEMO/bucketwatch.yaml"
set +e
AWS_ENDPOINT_URL_KMS=http://127.0.0.1:5055 "$ROOT/.build/debug/bucketwatch" check --config "$DEMO/bucketwatch.yaml"
status=$?
set -e
echo "(exit status $status: 0 compliant, 1 drift, 2 unknown)"

echo
echo "\$ bucketwatch run --config $DEMO/bucketwatch.yaml   # the daemon, for a few seconds"
AWS_ENDPOINT_URL_KMS=http://127.0.0.1:5055 "$ROOT/.build/debug/bucketwatch" run \
  --config "$DEMO/bucketwatch.yaml" --state-directory "$DEMO/state" &
daemon=$!
# Wait (at most 20 s) until both stores have been swept once: the first sweep starts within 5 s.
for _ in $(seq 1 100); do
  swept=$(curl -sf http://127.0.0.1:9750/metrics 2>/dev/null | grep -c '^bucketwatch_store_sweeps_total{.*} [1-9]' || true)
  [ "$swept" -ge 2 ] && break
  sleep 0.2
done
echo
echo "\$ curl -s http://127.0.0.1:9750/metrics | grep -E 'store_up|state=\"drift\"} 1'"
curl -s http://127.0.0.1:9750/metrics | grep -E 'bucketwatch_store_up|state="drift"} 1' || true
kill -TERM "$daemon"
wait "$daemon" || true
if [ "$status" -ne 1 ]; then
  echo "demo: expected check to exit 1 (one drifted bucket), got $status" >&2
  exit 1
fi
echo
echo "demo: done (check found the drifted bucket, as expected)"
