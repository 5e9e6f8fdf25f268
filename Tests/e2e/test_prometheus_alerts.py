"""Daemon + a real Prometheus with the repo's alert rules: drift fires, fixing the bucket resolves it."""

import subprocess
import time

import pytest
import requests

from bw_e2e import (
    ALERTS_YML, COMPLIANT_CORS, admin_s3, config_text, drift_e2e_buckets, free_port, record, stop_process,
    wait_for, write_credentials,
)

PROMETHEUS = "/usr/bin/prometheus"
DRIFT_ALERTS = {"BucketwatchCORSDrift": "bw-e2e-cors", "BucketwatchVersioningDrift": "bw-e2e-versioning"}


@pytest.fixture
def prometheus(workdir):
    """Factory: prometheus(target_port) -> base URL of a real Prometheus scraping 127.0.0.1:target_port."""
    procs = []

    def start(target_port):
        if not ALERTS_YML.is_file():
            pytest.fail(f"{ALERTS_YML} missing: the alert rules under test are not there")
        port = free_port()
        (workdir / "prometheus.yml").write_text(
            "global:\n"
            "  scrape_interval: 1s\n"
            "  evaluation_interval: 1s\n"
            "rule_files:\n"
            f"  - {ALERTS_YML}\n"
            "scrape_configs:\n"
            "  - job_name: bucketwatch\n"
            "    static_configs:\n"
            f"      - targets: ['127.0.0.1:{target_port}']\n"
        )
        log = open(workdir / "prometheus.log", "wb")
        procs.append((subprocess.Popen(
            [PROMETHEUS, f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={workdir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        ), log))
        url = f"http://127.0.0.1:{port}"

        def ready():
            if procs[-1][0].poll() is not None:
                pytest.fail(f"prometheus exited with {procs[-1][0].returncode}:\n"
                            + (workdir / "prometheus.log").read_text(errors="replace")[-3000:])
            return requests.get(url + "/-/ready", timeout=2).status_code == 200
        wait_for(ready, 30, f"prometheus on {url} not ready")
        # The rule file must have been loaded, or "no alert" would prove nothing.
        groups = requests.get(url + "/api/v1/rules", timeout=5).json()["data"]["groups"]
        names = {r["name"] for g in groups for r in g["rules"]}
        assert set(DRIFT_ALERTS) <= names, f"alert rules not loaded from {ALERTS_YML}: have {sorted(names)}"
        return url

    yield start
    for proc, log in procs:
        stop_process(proc, timeout=15)
        log.close()


@pytest.fixture
def e2e_buckets(moto):
    """The bw-e2e-* buckets in their drifted shape, before and after the test."""
    s3 = admin_s3(moto)
    drift_e2e_buckets(s3)
    yield s3
    drift_e2e_buckets(s3)


def active_alerts(prom):
    r = requests.get(prom + "/api/v1/alerts", timeout=5)
    r.raise_for_status()
    return r.json()["data"]["alerts"]


def firing(alerts, name, store):
    return [a for a in alerts if a["labels"].get("alertname") == name and a["labels"].get("store") == store
            and a["state"] == "firing"]


def test_drift_alerts_fire_and_resolve(moto, e2e_buckets, workdir, daemons, prometheus):
    port = free_port()
    creds = write_credentials(workdir, moto)
    stores = [("bw-compliant", "bw-compliant"), ("bw-e2e-cors", "bw-e2e-cors"), ("bw-e2e-versioning", "bw-e2e-versioning")]
    config = workdir / "bucketwatch.yaml"
    config.write_text(config_text(moto, stores, creds, port, interval="10s"))

    daemon = daemons(config, port, workdir, moto=moto).start()
    t0 = time.monotonic()
    daemon.wait_serving()
    prom = prometheus(port)

    # Both drift alerts fire, each for its store.
    def both_firing():
        alerts = active_alerts(prom)
        compliant = [a for a in alerts if a["labels"].get("store") == "bw-compliant"]
        assert not compliant, f"an alert fired for the compliant store: {compliant}"
        return all(firing(alerts, name, store) for name, store in DRIFT_ALERTS.items()) and alerts

    alerts = wait_for(both_firing, 60, f"{sorted(DRIFT_ALERTS)} not both firing; daemon log:\n{daemon.tail()}", interval=0.5)
    fired_after = time.monotonic() - t0
    record(f"alerts: both drift alerts firing {fired_after:.1f} s after daemon start "
           "(initial jitter <= 5 s + first sweep + target discovery + 1 s scrape/eval)")
    for name, store in DRIFT_ALERTS.items():
        (alert,) = firing(alerts, name, store)
        assert alert["labels"].get("provider") == "aws", alert
    # Only the two expected drift alerts; nothing about bw-compliant.
    unexpected = [a["labels"] for a in alerts
                  if (a["labels"].get("alertname"), a["labels"].get("store")) not in DRIFT_ALERTS.items()
                  and a["labels"].get("alertname") in DRIFT_ALERTS]
    assert not unexpected, f"unexpected drift alerts: {unexpected}"

    # bw-compliant really was read and is compliant (so "no alert" means something).
    def compliant_scraped():
        r = requests.get(prom + "/api/v1/query", params={
            "query": 'sum(bucketwatch_check_state{store="bw-compliant",state="compliant"})'}, timeout=5).json()
        result = r["data"]["result"]
        return result and float(result[0]["value"][1]) >= 6
    wait_for(compliant_scraped, 30, "Prometheus never saw bw-compliant's 6 checks compliant")
    assert not [a for a in active_alerts(prom) if a["labels"].get("store") == "bw-compliant"]

    # Fix both buckets with the admin keys; the next sweep (<= 10 s) + scrape resolves the alerts.
    e2e_buckets.put_bucket_cors(Bucket="bw-e2e-cors", CORSConfiguration=COMPLIANT_CORS)
    e2e_buckets.put_bucket_versioning(Bucket="bw-e2e-versioning", VersioningConfiguration={"Status": "Enabled"})
    t_fix = time.monotonic()

    def both_gone():
        alerts = active_alerts(prom)
        return not any(a["labels"].get("alertname") in DRIFT_ALERTS for a in alerts)
    wait_for(both_gone, 60, f"drift alerts still active after the buckets were fixed; daemon log:\n{daemon.tail()}",
             interval=0.5)
    record(f"alerts: both drift alerts resolved {time.monotonic() - t_fix:.1f} s after the fix (interval 10 s)")

    # The daemon's own view agrees: both checks compliant now.
    m = daemon.metrics()
    for store, check in (("bw-e2e-cors", "cors"), ("bw-e2e-versioning", "versioning")):
        key = ("bucketwatch_check_state", ("check", check), ("provider", "aws"), ("state", "compliant"), ("store", store))
        assert m.get(key) == 1, f"{store} {check} not compliant in /metrics after the fix"
