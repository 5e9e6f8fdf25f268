"""The daemon reports GCS stores with the same contract as S3 stores (metrics labels,
journal events), read from gcp-storage-emulator (STORAGE_EMULATOR_HOST: no token)."""

import json

from bw_e2e import REPO, free_port, series, wait_for

GCS_JSON = REPO / ".peers" / "gcs.json"


def test_daemon_reports_gcs_stores_like_s3_stores(daemons, workdir):
    assert GCS_JSON.exists(), "gcp-storage-emulator is not seeded: run bash scripts/peers.sh start"
    gcs = json.loads(GCS_JSON.read_text())
    port = free_port()
    config = workdir / "gcs.yaml"
    config.write_text(
        "interval: 10s\n"
        f"listen_address: 127.0.0.1:{port}\n"
        "stores:\n"
        "  - name: gcs-ok\n    provider: gcp\n    bucket: gcs-compliant\n    deployment: saas\n"
        "  - name: gcs-drift\n    provider: gcp\n    bucket: gcs-versioning-off\n    deployment: saas\n"
    )
    host = gcs["endpoint"].removeprefix("http://")
    daemon = daemons(config, port, workdir, extra_env={"STORAGE_EMULATOR_HOST": host}).start().wait_serving()

    def swept():
        m = daemon.metrics()
        return all(sum(series(m, "bucketwatch_store_sweeps_total", store=s, provider="gcp").values()) >= 1
                   for s in ("gcs-ok", "gcs-drift"))

    wait_for(swept, 30, f"the GCS stores were not swept; daemon log:\n{daemon.tail()}", interval=0.5)
    m = daemon.metrics()
    drift = series(m, "bucketwatch_check_state", store="gcs-drift", provider="gcp", check="versioning", state="drift")
    assert list(drift.values()) == [1.0], f"versioning drift of gcs-drift: {drift}"
    ok = series(m, "bucketwatch_check_state", store="gcs-ok", provider="gcp", state="compliant")
    assert len(ok) == 6 and all(v == 1.0 for v in ok.values()), f"gcs-ok should be compliant on all six checks: {ok}"
    for store in ("gcs-ok", "gcs-drift"):
        up = series(m, "bucketwatch_store_up", store=store, provider="gcp")
        assert list(up.values()) == [1.0], f"{store} store_up: {up}"
    transitions = series(m, "bucketwatch_state_transitions_total", store="gcs-drift", provider="gcp", event="drift_found")
    assert list(transitions.values()) == [1.0], f"one drift_found for gcs-drift: {transitions}"
    assert "gcs-drift" in daemon.stderr_text() and "versioning drifted" in daemon.stderr_text()
