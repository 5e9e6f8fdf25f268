#!/usr/bin/env bash
# Static checks of the deployment files; exits non-zero on any problem.
#   bash scripts/check-static.sh
#
#   Config/prometheus/alerts.yml       promtool check rules
#   Config/prometheus/alerts_test.yml  promtool test rules
#   Config/prometheus/prometheus.yml   promtool check config
#   systemd/bucketwatch.service        systemd-analyze verify: any output on stderr (unknown
#                                      key or section, unparsable value, ...) fails;
#                                      systemd-analyze security --offline: exposure must be
#                                      2.0 or better
#   systemd/bucketwatch.catalog        compiled with journalctl --update-catalog into a
#                                      temporary root; must hold exactly the MESSAGE_IDs
#                                      of Sources/BucketwatchCore/Daemon/StateChanges.swift
#
# Needs promtool (Debian package prometheus) and systemd-analyze/journalctl (package
# systemd). Nothing is installed or changed outside a temporary directory.
#
# systemd-analyze verify checks that ExecStart's program exists and is executable. The
# unit names the installed path, /usr/local/bin/bucketwatch; when that does not exist
# (CI, a developer machine) a temporary copy of the unit is verified instead, with only
# the ExecStart program path replaced by $BUCKETWATCH_BIN, else the repository's
# .build/release or .build/debug binary, else /bin/true.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

UNIT=systemd/bucketwatch.service
CATALOG=systemd/bucketwatch.catalog
RULES=Config/prometheus/alerts.yml
RULE_TESTS=Config/prometheus/alerts_test.yml
PROM_CONFIG=Config/prometheus/prometheus.yml
INSTALLED_BIN=/usr/local/bin/bucketwatch
# systemd-analyze security --threshold uses a 0-100 scale: 20 = exposure 2.0. It fails
# (exit 1) when the exposure is above the threshold.
MAX_EXPOSURE=2.0
THRESHOLD=20

failures=0
ok() { printf 'check-static: ok    %s\n' "$*"; }
bad() { printf 'check-static: FAIL  %s\n' "$*" >&2; failures=$((failures + 1)); }
indent() { sed 's/^/    /'; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

for tool in promtool systemd-analyze journalctl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    bad "$tool not found (apt-get install prometheus systemd)"
  fi
done
if [ "$failures" -gt 0 ]; then exit 1; fi

# --- Prometheus -----------------------------------------------------------------------
if out=$(promtool check rules "$RULES" 2>&1); then
  ok "promtool check rules $RULES"
else
  bad "promtool check rules $RULES"; printf '%s\n' "$out" | indent >&2
fi

if out=$(promtool test rules "$RULE_TESTS" 2>&1); then
  ok "promtool test rules $RULE_TESTS"
  printf '%s\n' "$out" | grep -v '^[[:space:]]*$' | indent
else
  bad "promtool test rules $RULE_TESTS"; printf '%s\n' "$out" | indent >&2
fi

if out=$(promtool check config "$PROM_CONFIG" 2>&1); then
  ok "promtool check config $PROM_CONFIG"
else
  bad "promtool check config $PROM_CONFIG"; printf '%s\n' "$out" | indent >&2
fi

# --- systemd unit: verify -------------------------------------------------------------
exec_line=$(grep -E '^ExecStart=' "$UNIT" || true)
if [ "$(printf '%s\n' "$exec_line" | grep -c .)" -ne 1 ]; then
  bad "$UNIT: expected exactly one ExecStart= line"
fi
exec_bin=$(printf '%s\n' "$exec_line" | sed -E 's/^ExecStart=[-@:+!]*([^ ]+).*/\1/')
verify_unit=$UNIT
if [ "$exec_bin" != "$INSTALLED_BIN" ]; then
  bad "$UNIT: ExecStart runs $exec_bin, expected $INSTALLED_BIN"
elif [ ! -x "$INSTALLED_BIN" ]; then
  stand_in=${BUCKETWATCH_BIN:-}
  for candidate in "$ROOT/.build/release/bucketwatch" "$ROOT/.build/debug/bucketwatch" /bin/true; do
    if [ -z "$stand_in" ] && [ -x "$candidate" ]; then stand_in=$candidate; fi
  done
  mkdir -p "$TMP/unit"
  verify_unit=$TMP/unit/bucketwatch.service
  sed "s#^ExecStart=$INSTALLED_BIN #ExecStart=$stand_in #" "$UNIT" > "$verify_unit"
  echo "check-static: $INSTALLED_BIN is not installed: verifying a copy of $UNIT with ExecStart=$stand_in"
fi
verify_status=0
verify_err=$(systemd-analyze verify --man=no "$verify_unit" 2>&1 >/dev/null) || verify_status=$?
# Unknown keys and sections, unparsable values and deprecations only warn (exit 0):
# any line on stderr counts as a failure.
if [ "$verify_status" -ne 0 ] || [ -n "$verify_err" ]; then
  bad "systemd-analyze verify $UNIT (exit $verify_status)"
  printf '%s\n' "$verify_err" | sed "s#$verify_unit#$UNIT#g" | indent >&2
  if printf '%s\n' "$verify_err" | grep -qE 'Unknown key|Unknown section|Failed'; then
    echo "    (unknown keys/sections or unparsable values above)" >&2
  fi
else
  ok "systemd-analyze verify $UNIT"
fi

# --- systemd unit: security -----------------------------------------------------------
security_status=0
security_out=$(systemd-analyze security --offline=true --threshold="$THRESHOLD" --no-pager "$UNIT" 2>&1) \
  || security_status=$?
score_line=$(printf '%s\n' "$security_out" | grep -E 'Overall exposure level' | sed -E 's/^[^O]*//' || true)
score=$(printf '%s\n' "$score_line" | sed -nE 's/.*: ([0-9]+\.[0-9]+) .*/\1/p')
echo "check-static: $score_line"
if [ -z "$score" ]; then
  bad "systemd-analyze security $UNIT: no exposure level in the output (exit $security_status)"
  printf '%s\n' "$security_out" | indent >&2
elif [ "$security_status" -ne 0 ] || ! awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then
  bad "systemd-analyze security $UNIT: exposure $score, must be $MAX_EXPOSURE or better (exit $security_status)"
  printf '%s\n' "$security_out" | grep -E '^✗' | indent >&2
else
  ok "systemd-analyze security $UNIT: exposure $score <= $MAX_EXPOSURE"
fi

# --- journal catalog ------------------------------------------------------------------
mkdir -p "$TMP/catalog/usr/lib/systemd/catalog"
cp "$CATALOG" "$TMP/catalog/usr/lib/systemd/catalog/bucketwatch.catalog"
expected_ids=$(grep -oE '"[0-9a-f]{32}"' Sources/BucketwatchCore/Daemon/StateChanges.swift | tr -d '"' | sort)
if ! out=$(journalctl --root="$TMP/catalog" --update-catalog 2>&1); then
  bad "journalctl --update-catalog $CATALOG"; printf '%s\n' "$out" | indent >&2
elif [ -n "$out" ]; then
  bad "journalctl --update-catalog $CATALOG printed warnings"; printf '%s\n' "$out" | indent >&2
else
  listed=$(journalctl --root="$TMP/catalog" --list-catalog --no-pager 2>&1)
  listed_ids=$(printf '%s\n' "$listed" | awk '{print $1}' | sort)
  if [ "$(printf '%s\n' "$expected_ids" | grep -c .)" -ne 4 ]; then
    bad "expected 4 MESSAGE_IDs in StateChanges.swift, found: $(echo $expected_ids)"
  elif [ "$listed_ids" != "$expected_ids" ]; then
    bad "$CATALOG: MESSAGE_IDs differ from StateChanges.swift"
    diff <(printf '%s\n' "$expected_ids") <(printf '%s\n' "$listed_ids") | indent >&2
  elif [ "$(printf '%s\n' "$listed" | grep -c ' bucketwatch: ')" -ne 4 ]; then
    bad "$CATALOG: every entry needs Defined-By: bucketwatch and a Subject:"
    printf '%s\n' "$listed" | indent >&2
  elif [ "$(grep -c '^Support: ' "$CATALOG")" -ne 4 ]; then
    bad "$CATALOG: every entry needs a Support: line"
  else
    ok "journalctl --update-catalog $CATALOG: 4 entries, IDs match StateChanges.swift"
  fi
fi

if [ "$failures" -gt 0 ]; then
  echo "check-static: $failures check(s) failed" >&2
  exit 1
fi
echo "check-static: all checks passed"
