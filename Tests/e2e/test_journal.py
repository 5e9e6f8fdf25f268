"""State changes reach a real systemd-journald, once per change, also across restarts."""

import datetime
import json
import os
import signal
import socket
import subprocess
import time
import uuid

import pytest

from bw_e2e import config_text, leaks_secret, free_port, stop_process, wait_for, write_credentials

JOURNALD = "/lib/systemd/systemd-journald"
JOURNAL_SOCKET = "/run/systemd/journal/socket"
DRIFT_FOUND = "5b0f3c6e8a2d4d51b7e4b1f0c2a9d701"
ALL_IDS = {DRIFT_FOUND, "5b0f3c6e8a2d4d51b7e4b1f0c2a9d702", "5b0f3c6e8a2d4d51b7e4b1f0c2a9d703",
           "5b0f3c6e8a2d4d51b7e4b1f0c2a9d704"}


def journald_listening():
    """True when something accepts datagrams on the journal socket (a stale socket file refuses)."""
    if not os.path.exists(JOURNAL_SOCKET):
        return False
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect(JOURNAL_SOCKET)
        return True
    except OSError:
        return False
    finally:
        s.close()


@pytest.fixture(scope="module")
def journald():
    """A running journald: reuses one that is listening, else starts /lib/systemd/systemd-journald
    by hand and stops it (by PID) in teardown."""
    if journald_listening():
        yield None
        return
    if os.geteuid() != 0:
        pytest.fail("starting systemd-journald by hand needs root")
    proc = subprocess.Popen([JOURNALD], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        def up():
            if proc.poll() is not None:
                pytest.fail(f"systemd-journald exited with {proc.returncode}")
            return journald_listening()
        wait_for(up, 10, f"{JOURNAL_SOCKET} did not appear after starting {JOURNALD}")
        yield proc
    finally:
        stop_process(proc, signal.SIGTERM, timeout=10)


def journal(*matches, since):
    """Entries as dicts (journalctl -o json), with `matches` (FIELD=value) and --since."""
    r = subprocess.run(["journalctl", "-o", "json", "--no-pager", "--since", since, *matches],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode in (0, 1), f"journalctl failed ({r.returncode}): {r.stderr[-500:]}"
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def test_one_journal_entry_per_state_change(journald, moto, workdir, daemons):
    store = f"e2e-journal-{uuid.uuid4().hex[:8]}"
    since = (datetime.datetime.now() - datetime.timedelta(seconds=2)).strftime("%Y-%m-%d %H:%M:%S")
    port = free_port()
    creds = write_credentials(workdir, moto)
    config = workdir / "bucketwatch.yaml"
    config.write_text(config_text(moto, [(store, "bw-versioning-suspended")], creds, port, interval="10s"))
    state = workdir / "state"

    def entries():
        return journal("-t", "bucketwatch", f"BUCKETWATCH_STORE={store}", since=since)

    def drift_found():
        return [e for e in entries() if e.get("MESSAGE_ID") == DRIFT_FOUND and e.get("BUCKETWATCH_CHECK") == "versioning"]

    first = daemons(config, port, workdir, moto=moto, state_directory=state).start().wait_serving()
    found = wait_for(drift_found, 30, f"no drift_found entry for {store} in the journal; daemon log:\n{first.tail()}",
                     interval=0.5)
    e = found[0]
    expected = {
        "MESSAGE_ID": DRIFT_FOUND, "PRIORITY": "4", "SYSLOG_IDENTIFIER": "bucketwatch",
        "BUCKETWATCH_EVENT": "drift_found", "BUCKETWATCH_STORE": store, "BUCKETWATCH_PROVIDER": "aws",
        "BUCKETWATCH_BUCKET": "bw-versioning-suspended", "BUCKETWATCH_CHECK": "versioning",
        "BUCKETWATCH_STATE": "drift", "BUCKETWATCH_PREVIOUS_STATE": "none",
        "BUCKETWATCH_EXPECTED": "Enabled", "BUCKETWATCH_ACTUAL": "Suspended",
    }
    got = {k: e.get(k) for k in expected}
    assert got == expected, f"journal entry fields differ: {got}"
    assert "versioning" in e.get("MESSAGE", "") and store in e.get("MESSAGE", ""), e.get("MESSAGE")
    assert e.get("_PID") == str(first.proc.pid), "the entry was not sent by the daemon we started"

    # Two more sweeps (interval 10 s): the persisting drift is not announced again, and the
    # compliant checks of this bucket are not news at all.
    first.wait_sweeps(store, 3, 40)
    time.sleep(1)  # the journal sink runs right after the metrics sink: let journald store it
    all_entries = entries()
    assert len(drift_found()) == 1, "drift announced more than once across sweeps"
    assert [x.get("MESSAGE_ID") for x in all_entries if x.get("MESSAGE_ID") in ALL_IDS] == [DRIFT_FOUND], \
        f"expected exactly one state-change entry, got {[(x.get('BUCKETWATCH_EVENT'), x.get('BUCKETWATCH_CHECK')) for x in all_entries]}"

    # Restart with the same state directory: the drift is already known, so no new entry.
    assert first.stop() == 0, f"daemon did not exit 0 on SIGTERM:\n{first.tail()}"
    assert (state / "state.json").is_file(), "no state file written to $STATE_DIRECTORY"
    second = daemons(config, port, workdir, moto=moto, state_directory=state).start().wait_serving()
    second.wait_sweeps(store, 2, 30)
    time.sleep(1)
    after = drift_found()
    assert len(after) == 1, f"restart re-announced known drift: {len(after)} drift_found entries " \
                            f"(PIDs {[x.get('_PID') for x in after]})"
    second.stop()

    # No journal entry carries a test secret (grep the whole JSON output since the start).
    r = subprocess.run(["journalctl", "-o", "json", "--no-pager", "--since", since],
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.strip(), "journalctl returned nothing at all"
    leaked = leaks_secret(r.stdout)
    assert not leaked, "a test secret appeared in the journal"
