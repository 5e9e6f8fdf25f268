"""systemd's notify protocol: READY/STATUS, WATCHDOG, RELOADING..READY on SIGHUP, STOPPING on SIGTERM."""

import signal
import time

import pytest

from bw_e2e import NotifySocket, config_text, free_port, has_line, record, stores_in, write_credentials


@pytest.fixture
def notify_socket(workdir):
    sock = NotifySocket(workdir / "notify.sock")
    yield sock
    sock.close()


def test_notify_protocol_reload_and_stop(moto, workdir, daemons, notify_socket):
    port = free_port()
    creds = write_credentials(workdir, moto)
    config = workdir / "bucketwatch.yaml"
    stores = [("e2e-notify-keep", "bw-compliant"), ("e2e-notify-drop", "bw-cors-missing")]
    config.write_text(config_text(moto, stores, creds, port))

    daemon = daemons(config, port, workdir, moto=moto,
                     extra_env={"NOTIFY_SOCKET": notify_socket.path, "WATCHDOG_USEC": "2000000"}).start()
    n = notify_socket

    # READY=1, with a STATUS= line.
    i_ready, _, ready = n.wait(lambda t: has_line(t, "READY=1"), 20, "no READY=1")
    assert any(line.startswith("STATUS=") and len(line) > len("STATUS=") for line in ready.split("\n")), \
        f"READY=1 came without a STATUS=: {ready!r}"
    daemon.wait_serving()

    # WATCHDOG=1 every WATCHDOG_USEC/2 (1 s): at least 2 within 3 s.
    t_start = time.monotonic()
    time.sleep(3)
    pings = [t for t, text in n.snapshot() if has_line(text, "WATCHDOG=1") and t >= t_start]
    assert len(pings) >= 2, f"{len(pings)} WATCHDOG=1 in 3 s (WATCHDOG_USEC=2000000)"
    record(f"notify: {len(pings)} WATCHDOG=1 pings in 3 s with WATCHDOG_USEC=2000000")

    # Let both stores be swept once, so "still the old stores" has series to look at.
    daemon.wait_sweeps("e2e-notify-keep", 1, 20)
    daemon.wait_sweeps("e2e-notify-drop", 1, 20)

    # A broken config + SIGHUP: RELOADING=1 then READY=1; the old config stays in force.
    good_text = config.read_text()
    config.write_text(good_text.replace("    bucket: bw-compliant\n", "    bukcet: bw-compliant\n", 1))
    mark = len(n.snapshot())
    daemon.proc.send_signal(signal.SIGHUP)
    i_rel, _, _ = n.wait(lambda t: has_line(t, "RELOADING=1"), 10, "no RELOADING=1 after SIGHUP", after=mark)
    n.wait(lambda t: has_line(t, "READY=1"), 10, "no READY=1 after RELOADING=1 (rejected reload)", after=i_rel + 1)
    time.sleep(0.5)
    assert daemon.proc.poll() is None, f"daemon died on a rejected reload:\n{daemon.tail()}"
    m = daemon.metrics()
    assert m[("bucketwatch_config_last_reload_successful",)] == 0
    assert m[("bucketwatch_config_reload_failures_total",)] == 1
    assert m[("bucketwatch_config_reloads_total",)] == 1
    assert {"e2e-notify-keep", "e2e-notify-drop"} <= stores_in(m), f"old stores gone after a rejected reload: {stores_in(m)}"
    assert "bukcet" in daemon.stderr_text(), "the rejected reload's reason was not logged"

    # A valid config without one store + SIGHUP: applied, the store disappears from /metrics.
    config.write_text(config_text(moto, stores[:1], creds, port))
    mark = len(n.snapshot())
    daemon.proc.send_signal(signal.SIGHUP)
    i_rel, _, _ = n.wait(lambda t: has_line(t, "RELOADING=1"), 10, "no RELOADING=1 after the 2nd SIGHUP", after=mark)
    n.wait(lambda t: has_line(t, "READY=1"), 10, "no READY=1 after RELOADING=1 (good reload)", after=i_rel + 1)
    m = daemon.metrics()
    assert m[("bucketwatch_config_last_reload_successful",)] == 1
    assert m[("bucketwatch_config_reload_failures_total",)] == 1
    assert m[("bucketwatch_config_reloads_total",)] == 2
    assert "e2e-notify-keep" in stores_in(m)
    assert "e2e-notify-drop" not in stores_in(m), \
        f"removed store still in /metrics: {sorted(k for k in m if ('store', 'e2e-notify-drop') in k)[:5]}"
    assert daemon.proc.poll() is None

    # SIGTERM: STOPPING=1, exit 0 within 10 s.
    mark = len(n.snapshot())
    t_term = time.monotonic()
    daemon.proc.send_signal(signal.SIGTERM)
    n.wait(lambda t: has_line(t, "STOPPING=1"), 10, "no STOPPING=1 after SIGTERM", after=mark)
    try:
        rc = daemon.proc.wait(timeout=10)
    except Exception:
        pytest.fail(f"daemon still running 10 s after SIGTERM:\n{daemon.tail()}")
    took = time.monotonic() - t_term
    record(f"notify: shutdown took {took:.2f} s from SIGTERM to exit (status {rc})")
    assert rc == 0, f"exit status {rc} after SIGTERM:\n{daemon.tail()}"
