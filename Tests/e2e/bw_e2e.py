"""Helpers and fixtures for the daemon end-to-end tests (`bucketwatch run` against real peers).

Needs: the peers up (`bash scripts/peers.sh start`), the binary built
(`swift build --product bucketwatch`), Debian's prometheus, wrk and systemd-journald.
Everything binds to 127.0.0.1; every process started here is stopped in teardown.
Test credentials come from .peers/moto.json and are never printed.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("BUCKETWATCH_BINARY", REPO / ".build" / "debug" / "bucketwatch"))
MOTO_JSON = REPO / ".peers" / "moto.json"
ALERTS_YML = REPO / "Config" / "prometheus" / "alerts.yml"

E2E_BUCKETS = ("bw-e2e-cors", "bw-e2e-versioning")
# The compliant CORS rule (scripts/peers/seed_moto.py COMPLIANT_CORS).
COMPLIANT_CORS = {
    "CORSRules": [
        {
            "AllowedHeaders": ["*"],
            "AllowedMethods": ["GET", "HEAD", "PUT"],
            "AllowedOrigins": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3600,
        }
    ]
}

# Figures printed at the end of the run (conftest.pytest_terminal_summary), for the lead's notes.
MEASUREMENTS = []
# Every secret a test may come near; output is checked against these (never printed).
SECRETS = []


def redact(text):
    for secret in SECRETS:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


def leaks_secret(text):
    """Whether text holds a test secret. Assert on a local (`leaked = ...; assert not leaked`):
    pytest's assertion rewriting would print the arguments of a call inside `assert`."""
    return any(secret and secret in text for secret in SECRETS)


def record(line):
    """A measurement: printed now (captured) and in the terminal summary."""
    MEASUREMENTS.append(line)
    print(f"MEASURE {line}")


def print_measurements(terminalreporter):
    if not MEASUREMENTS:
        return
    terminalreporter.section("bucketwatch e2e measurements")
    for line in MEASUREMENTS:
        terminalreporter.write_line(redact(line))


# ---- waiting ----------------------------------------------------------------


def wait_for(predicate, timeout, message, interval=0.25):
    """Polls predicate until it returns a truthy value; fails with `message` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (requests.RequestException, OSError, ValueError) as e:
            last_error = e
        if time.monotonic() >= deadline:
            detail = f" (last error: {type(last_error).__name__}: {last_error})" if last_error else ""
            pytest.fail(f"timed out after {timeout:.0f} s: {message}{detail}")
        time.sleep(interval)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc, sig=signal.SIGTERM, timeout=10):
    """Stops one process we started, by its PID: `sig`, then SIGKILL after `timeout` s."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# ---- peers ------------------------------------------------------------------


class Secret(str):
    """A secret string whose repr never shows it (pytest prints fixture values in tracebacks)."""

    def __repr__(self):
        return "'<secret>'"


class PeerConfig(dict):
    """moto.json, with the secret access keys wrapped in Secret."""

    def __repr__(self):
        return f"<moto peer {self.get('endpoint')}>"


@pytest.fixture(scope="session")
def moto():
    if not MOTO_JSON.exists():
        pytest.fail(f"{MOTO_JSON} missing: the peers are not up (bash scripts/peers.sh start)")
    data = json.loads(MOTO_JSON.read_text())
    missing = [b for b in E2E_BUCKETS if b not in data.get("buckets", [])]
    if "admin" not in data or missing:
        pytest.fail("moto was seeded by an older seed_moto.py (no admin user or bw-e2e-* buckets): "
                    "bash scripts/peers.sh start")
    for user in ("reader", "nopolicy_reader", "admin"):
        data[user]["secret_access_key"] = Secret(data[user]["secret_access_key"])
        SECRETS.append(str(data[user]["secret_access_key"]))
    return PeerConfig(data)


@pytest.fixture(autouse=True)
def no_secret_in_test_output(capfd, request):
    """Secrets: nothing a test prints (stdout or stderr, ours or a child's) contains a secret."""
    yield
    out, err = capfd.readouterr()
    leaked = leaks_secret(out) or leaks_secret(err)
    # Put the output back so pytest still reports it (redacted, in case of a leak).
    os.write(1, redact(out).encode())
    os.write(2, redact(err).encode())
    assert not leaked, f"{request.node.name}: a test secret appeared in the test output"


@pytest.fixture(scope="session")
def binary():
    if not (BINARY.is_file() and os.access(BINARY, os.X_OK)):
        pytest.fail(f"{BINARY} missing: build it with `swift build --product bucketwatch` in {REPO}")
    return BINARY


def admin_s3(moto):
    import boto3
    from botocore.config import Config

    a = moto["admin"]
    return boto3.client(
        "s3",
        endpoint_url=moto["endpoint"],
        region_name=moto["region"],
        aws_access_key_id=a["access_key_id"],
        aws_secret_access_key=a["secret_access_key"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2, "mode": "standard"},
                      connect_timeout=5, read_timeout=30),
    )


def drift_e2e_buckets(s3):
    """Puts the bw-e2e-* buckets into their seeded (drifted) shape."""
    s3.delete_bucket_cors(Bucket="bw-e2e-cors")
    s3.put_bucket_versioning(Bucket="bw-e2e-versioning", VersioningConfiguration={"Status": "Suspended"})


# ---- configuration ------------------------------------------------------------


@pytest.fixture
def workdir():
    """A short temporary directory (AF_UNIX paths are limited to 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="bw-e2e-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def write_credentials(directory, moto, user="reader"):
    path = Path(directory) / f"aws-credentials-{user}"
    c = moto[user]
    path.write_text(f"[default]\naws_access_key_id = {c['access_key_id']}\naws_secret_access_key = {c['secret_access_key']}\n")
    path.chmod(0o600)
    return path


def config_text(moto, stores, credentials, port, interval="10s"):
    """stores: [(name, bucket)]."""
    lines = [f"interval: {interval}", f"listen_address: 127.0.0.1:{port}", "stores:"]
    for name, bucket in stores:
        lines += [
            f"  - name: {name}",
            "    provider: aws",
            f"    bucket: {bucket}",
            f"    region: {moto['region']}",
            f"    endpoint: {moto['endpoint']}",
            "    path_style: true",
            "    deployment: saas",
            f"    credentials_file: {credentials}",
        ]
    return "\n".join(lines) + "\n"


# ---- the daemon ---------------------------------------------------------------


class Daemon:
    """One `bucketwatch run` process; stderr goes to a file that teardown checks for secrets."""

    def __init__(self, binary, config, port, workdir, state_directory=None, extra_env=None, moto=None):
        self.binary = binary
        self.config = Path(config)
        self.port = port
        self.workdir = Path(workdir)
        self.state_directory = Path(state_directory or self.workdir / "state")
        self.extra_env = dict(extra_env or {})
        self.moto = moto
        self.proc = None
        self.runs = 0
        self.logs = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def env(self):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.workdir),
            "STATE_DIRECTORY": str(self.state_directory),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if self.moto:
            env["AWS_ENDPOINT_URL_KMS"] = self.moto["endpoint"]
        env.update(self.extra_env)
        return env

    def start(self):
        self.runs += 1
        log = self.workdir / f"daemon-{self.port}-{self.runs}.stderr"
        self.logs.append(log)
        self._stderr = open(log, "wb")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            [str(self.binary), "run", "--config", str(self.config)],
            stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr,
            env=self.env(), start_new_session=True,
        )
        return self

    def stderr_text(self):
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def tail(self, n=30):
        return "\n".join(self.stderr_text().splitlines()[-n:])

    def wait_serving(self, timeout=20):
        def up():
            if self.proc.poll() is not None:
                pytest.fail(f"daemon exited with {self.proc.returncode} before serving:\n{self.tail()}")
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        wait_for(up, timeout, f"daemon on {self.url} did not answer /healthz")
        return self

    def metrics_text(self):
        r = requests.get(self.url + "/metrics", timeout=5)
        assert r.status_code == 200, f"/metrics answered {r.status_code}"
        leaked = leaks_secret(r.text)
        assert not leaked, "a test secret appeared in the /metrics body"
        return r.text

    def metrics(self):
        return parse_metrics(self.metrics_text())

    def sweeps(self, store):
        return self.metrics().get(("bucketwatch_store_sweeps_total", ("provider", "aws"), ("store", store)), 0)

    def wait_sweeps(self, store, count, timeout):
        return wait_for(lambda: self.sweeps(store) >= count, timeout,
                        f"store {store} did not reach {count} finished sweep(s); daemon log:\n{self.tail()}", interval=0.5)

    def stop(self, timeout=10):
        stop_process(self.proc, signal.SIGTERM, timeout)
        if getattr(self, "_stderr", None):
            self._stderr.close()
        return self.proc.returncode if self.proc else None

    def assert_no_secret_in_stderr(self):
        leaked = leaks_secret(self.stderr_text())
        assert not leaked, "a test secret appeared in the daemon's stderr"


@pytest.fixture
def daemons(binary):
    """Factory: daemons(config, port, workdir, ...) -> started Daemon. All are stopped in teardown,
    and their stderr is checked for secrets."""
    started = []

    def make(config, port, workdir, **kw):
        d = Daemon(binary, config, port, workdir, **kw)
        started.append(d)
        return d

    yield make
    for d in started:
        d.stop()
    for d in started:
        d.assert_no_secret_in_stderr()


# ---- Prometheus text format -------------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, (label, value), ...sorted): float}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError(f"unparsable exposition line: {line!r}")
        labels = tuple(sorted(_LABEL.findall(m.group(2) or "")))
        out[(m.group(1), *labels)] = float(m.group(3))
    return out


def series(metrics, name, **labels):
    """The samples of `name` whose labels include `labels`: {labels-dict-as-tuple: value}."""
    found = {}
    for key, value in metrics.items():
        if key[0] != name:
            continue
        have = dict(key[1:])
        if all(have.get(k) == v for k, v in labels.items()):
            found[key[1:]] = value
    return found


def stores_in(metrics):
    return {dict(k[1:]).get("store") for k in metrics if dict(k[1:]).get("store")}


# ---- systemd notify ---------------------------------------------------------------


class NotifySocket:
    """An AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []  # (monotonic time, text)
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append((time.monotonic(), data.decode(errors="replace")))

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def wait(self, predicate, timeout, message, after=0):
        """Waits for a datagram (index >= after) whose text satisfies predicate; returns (index, t, text)."""
        def find():
            for i, (t, text) in enumerate(self.snapshot()):
                if i >= after and predicate(text):
                    return (i, t, text)
            return None
        return wait_for(find, timeout, f"{message}; datagrams so far: {[m for _, m in self.snapshot()]}", interval=0.05)

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def has_line(text, line):
    return line in text.split("\n")
