"""Start-up failures: a bad config exits 78 naming file:line; a taken port exits 69."""

import socket
import subprocess

from bw_e2e import config_text, free_port, leaks_secret, write_credentials


def run_daemon(binary, config, workdir, timeout=20):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "STATE_DIRECTORY": str(workdir / "state"), "LANG": "C.UTF-8"}
    r = subprocess.run([str(binary), "run", "--config", str(config)], env=env, capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    leaked = leaks_secret(r.stdout + r.stderr)
    assert not leaked, "a test secret appeared in the daemon's output"
    return r


def test_bad_config_exits_78_with_file_and_line(binary, moto, workdir):
    port = free_port()
    creds = write_credentials(workdir, moto)
    text = config_text(moto, [("e2e-bad", "bw-compliant")], creds, port)
    # A misspelt key on a known line, with a value that must not be echoed.
    text = text.replace("    bucket: bw-compliant\n", "    bukcet: value-must-not-be-echoed\n", 1)
    line = text.splitlines().index("    bukcet: value-must-not-be-echoed") + 1
    config = workdir / "bad.yaml"
    config.write_text(text)

    r = run_daemon(binary, config, workdir)
    assert r.returncode == 78, f"exit {r.returncode}, stderr: {r.stderr[-1000:]}"
    assert f"{config}:{line}:" in r.stderr, f"file:line ({config}:{line}) not on stderr: {r.stderr[-1000:]}"
    assert "bukcet" in r.stderr
    assert "value-must-not-be-echoed" not in r.stderr + r.stdout, "the config value was echoed"


def test_port_in_use_exits_69(binary, moto, workdir):
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        creds = write_credentials(workdir, moto)
        config = workdir / "bucketwatch.yaml"
        config.write_text(config_text(moto, [("e2e-port", "bw-compliant")], creds, port))
        r = run_daemon(binary, config, workdir)
    finally:
        holder.close()
    assert r.returncode == 69, f"exit {r.returncode}, stderr: {r.stderr[-1000:]}"
    assert f"127.0.0.1:{port}" in r.stderr, f"the address is not named: {r.stderr[-1000:]}"
