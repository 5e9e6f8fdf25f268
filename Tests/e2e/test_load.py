"""/metrics keeps answering under wrk while sweeps of ~16 moto stores run."""

import re
import shutil
import subprocess

import pytest

from bw_e2e import E2E_BUCKETS, config_text, free_port, record, series, write_credentials


def total(metrics, name):
    return sum(series(metrics, name).values())


def test_metrics_answers_under_load_during_sweeps(moto, workdir, daemons):
    wrk = shutil.which("wrk")
    if not wrk:
        pytest.fail("wrk not installed (apt-get install -y wrk; scripts/install-deps.sh installs it)")
    buckets = [b for b in moto["buckets"] if b not in E2E_BUCKETS]
    assert len(buckets) >= 16, f"expected the 16 moto scenario buckets, have {len(buckets)}"
    port = free_port()
    creds = write_credentials(workdir, moto)
    config = workdir / "bucketwatch.yaml"
    config.write_text(config_text(moto, [(b, b) for b in buckets], creds, port, interval="10s"))
    daemon = daemons(config, port, workdir, moto=moto).start().wait_serving()

    before = daemon.metrics()
    r = subprocess.run([wrk, "-t2", "-c16", "-d5s", "--latency", f"http://127.0.0.1:{port}/metrics"],
                       capture_output=True, text=True, timeout=60)
    after = daemon.metrics()
    out = r.stdout
    assert r.returncode == 0, f"wrk failed ({r.returncode}): {r.stderr[-500:]}"
    assert daemon.proc.poll() is None, f"daemon died under load:\n{daemon.tail()}"

    # Sweeps really ran during the load (first sweeps start within 5 s, then every 10 s).
    sweeps = total(after, "bucketwatch_store_sweeps_total") - total(before, "bucketwatch_store_sweeps_total")
    provider_requests = total(after, "bucketwatch_provider_requests_total") - total(before, "bucketwatch_provider_requests_total")
    assert sweeps >= 1 and provider_requests >= 1, f"no sweep finished during the 5 s of load: {sweeps} sweeps"

    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    assert m, f"unexpected wrk output:\n{out}"
    requests_done = int(m.group(1))
    assert "Socket errors" not in out, f"wrk saw socket errors:\n{out}"
    assert "Non-2xx or 3xx responses" not in out, f"wrk saw non-2xx answers:\n{out}"
    assert requests_done >= 300, f"only {requests_done} requests answered in 5 s:\n{out}"

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
    lat = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    size = len(daemon.metrics_text())
    record(f"wrk -t2 -c16 -d5s /metrics ({len(buckets)} stores, {size} B body): {requests_done} requests, "
           f"{rps} req/s; latency avg {lat.group(1)} stdev {lat.group(2)} max {lat.group(3)}; "
           f"p50 {pct.get('50')} p75 {pct.get('75')} p90 {pct.get('90')} p99 {pct.get('99')}; "
           f"{int(sweeps)} store sweeps and {int(provider_requests)} provider requests finished during the run")
