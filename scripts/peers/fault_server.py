#!/usr/bin/env python3
"""bucketwatch test peer: transport faults, credential endpoints, S3 region redirects.

Usage: fault_server.py [PORT]      (default 5056; binds 127.0.0.1 only)

A threaded HTTP/1.1 server (stdlib only). Every response carries a
Content-Length, so clients can keep connections alive; X-Connection-Id on
/ok identifies the TCP connection so a client can prove connection reuse.
Routes are listed in scripts/peers/README.md and in route() below.

Nothing secret is logged: the request log is one line per request with the
method, the path without its query, and the status; never headers.
"""

import datetime
import itertools
import json
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
IMDS_TOKEN = "imds-session-token"
IMDS_ROLE = "bw-role"
CONTAINER_AUTH = "container-auth-token"
REDIRECT_REGION = "eu-west-1"
REGION_BUCKETS = ("bw-region-redirect", "bw-region-malformed")
MAX_SLOW_SECONDS = 600.0
MAX_BIG_BYTES = 1 << 30


class State:
    """Shared, lock-protected server state (counters, flaky keys, config)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.conn_ids = itertools.count(1)
        self.reset()

    def reset(self):
        with self.lock:
            self.expires_in = 3600
            self.imds_serial = 0
            self.container_serial = 0
            self.flaky = {}
            self.stats = {}

    def next_conn_id(self):
        with self.lock:
            return next(self.conn_ids)

    def count_path(self, path):
        with self.lock:
            self.stats[path] = self.stats.get(path, 0) + 1

    def flaky_hit(self, key):
        with self.lock:
            n = self.flaky.get(key, 0) + 1
            self.flaky[key] = n
            return n

    def issue(self, kind):
        with self.lock:
            if kind == "imds":
                self.imds_serial += 1
                serial = self.imds_serial
            else:
                self.container_serial += 1
                serial = self.container_serial
            return serial, self.expires_in


STATE = State()


def iso8601(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def s3_error_xml(code, message, extra=""):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{extra}"
        "<RequestId>r1</RequestId></Error>"
    ).encode()


def injected_error_xml(code):
    code = "".join(c for c in code if c.isalnum() or c in "._-") or "InternalError"
    return (
        f"<Error><Code>{code}</Code><Message>injected</Message><RequestId>r1</RequestId></Error>"
    ).encode()


def sigv4_region(headers, query):
    """Region from the SigV4 credential scope (header, or presigned query)."""
    auth = headers.get("Authorization", "") or ""
    cred = None
    if "Credential=" in auth:
        cred = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
    elif "X-Amz-Credential" in query:
        cred = query["X-Amz-Credential"][0]
    if not cred:
        return None
    parts = cred.split("/")
    # AKID/DATE/REGION/SERVICE/aws4_request
    if len(parts) >= 5:
        return parts[-3]
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bucketwatch-fault/1"

    def version_string(self):
        return self.server_version
    timeout = 120  # idle keep-alive connections are closed after this

    # ---- plumbing -------------------------------------------------------

    def setup(self):
        super().setup()
        self.conn_id = STATE.next_conn_id()

    def log_request(self, code="-", size="-"):
        # Minimal and secret-free: method, path without query, status.
        path = self.path.split("?", 1)[0]
        sys.stderr.write(f"{self.command} {path} {code} conn={getattr(self, 'conn_id', '-')}\n")

    def log_message(self, fmt, *args):  # errors from http.server (no headers in them)
        sys.stderr.write("fault_server: " + (fmt % args) + "\n")

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until empty line
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(self, status, body=b"", ctype="text/plain; charset=utf-8", headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if body or ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def send_json(self, status, obj, headers=None):
        self.send(status, json.dumps(obj, sort_keys=True).encode(), "application/json", headers)

    def send_xml(self, status, body, headers=None):
        self.send(status, body, "application/xml", headers)

    def do_GET(self):
        self.dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    def dispatch(self):
        self.body = self.read_body()
        parsed = urllib.parse.urlsplit(self.path)
        self.rpath = parsed.path
        self.rawquery = parsed.query
        self.query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        if not self.rpath.startswith("/__"):
            STATE.count_path(self.rpath)
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # never leave a keep-alive client hanging
            sys.stderr.write(f"fault_server: handler error on {self.rpath}: {type(e).__name__}\n")
            try:
                self.send_xml(500, s3_error_xml("InternalError", "fault server bug"))
            except OSError:
                self.close_connection = True

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    # ---- routes ---------------------------------------------------------

    def route(self):
        p, m = self.rpath, self.command
        if p == "/ok":
            return self.send(200, "hello", headers={"X-Connection-Id": str(self.conn_id)})
        if p == "/slow":
            secs = min(max(float(self.q("seconds", "1")), 0.0), MAX_SLOW_SECONDS)
            time.sleep(secs)
            return self.send(200, "late")
        if p == "/reset":
            return self.abort_connection()
        if p.startswith("/status/"):
            status = int(p[len("/status/"):].strip("/") or "500")
            return self.send_xml(status, injected_error_xml(self.q("code", "InternalError")))
        if p.startswith("/flaky/"):
            key = p[len("/flaky/"):]
            n = STATE.flaky_hit(key)
            fail = int(self.q("fail", "1"))
            if n <= fail:
                status = int(self.q("status", "503"))
                return self.send_xml(status, injected_error_xml(self.q("code", "SlowDown")))
            return self.send(200, "recovered")
        if p.startswith("/__stats/flaky/"):
            key = p[len("/__stats/flaky/"):]
            with STATE.lock:
                count = STATE.flaky.get(key, 0)
            return self.send_json(200, {"count": count})
        if p == "/__stats":
            with STATE.lock:
                stats = dict(STATE.stats)
            return self.send_json(200, stats)
        if p == "/__config":
            if self.q("expires_in") is not None:
                with STATE.lock:
                    STATE.expires_in = int(self.q("expires_in"))
            with STATE.lock:
                return self.send_json(200, {"expires_in": STATE.expires_in})
        if p == "/__reset":
            STATE.reset()
            return self.send_json(200, {"status": "ok"})
        if p == "/big":
            return self.send_big(int(self.q("bytes", "0")))
        if p == "/malformed":
            return self.send_xml(200, f'<VersioningConfiguration xmlns="{S3_NS}"><Status>Enab')
        if p == "/redirect-other-host":
            port = self.server.server_address[1]
            return self.send(
                302,
                "redirecting to another host\n",
                headers={"Location": f"http://127.0.0.2:{port}/ok"},
            )
        if p == "/echo":
            hdrs = {k.lower(): v for k, v in self.headers.items()}
            return self.send_json(
                200,
                {
                    "method": m,
                    "path": p,
                    "query": self.rawquery,
                    "headers": hdrs,
                    "body": self.body.decode("utf-8", "replace"),
                },
            )
        if p.startswith("/imds/"):
            return self.imds(p[len("/imds"):])
        if p == "/container/creds":
            return self.container_creds()
        bucket = p.strip("/").split("/", 1)[0]
        if bucket in REGION_BUCKETS:
            return self.region_bucket(bucket)
        return self.send(404, "no such route\n")

    def abort_connection(self):
        """Close the TCP connection with RST and without any response."""
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        # socket.close() is deferred while makefile() objects exist: close them first.
        for f in (self.rfile, self.wfile):
            try:
                f.close()
            except OSError:
                pass
        sock.close()

    def send_big(self, n):
        n = max(0, min(n, MAX_BIG_BYTES))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        if self.command == "HEAD":
            return
        chunk = b"a" * 65536
        left = n
        while left > 0:
            k = min(left, len(chunk))
            self.wfile.write(chunk[:k])
            left -= k

    # IMDSv2 stand-in -------------------------------------------------------

    def imds(self, sub):
        m = self.command
        if sub == "/latest/api/token":
            if m != "PUT":
                return self.send(405, "method not allowed\n")
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.send(400, "missing X-aws-ec2-metadata-token-ttl-seconds\n")
            return self.send(
                200,
                IMDS_TOKEN,
                headers={"X-aws-ec2-metadata-token-ttl-seconds": self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")},
            )
        if sub == "/latest/meta-data/placement/region":
            return self.send(200, REDIRECT_REGION)
        creds_prefix = "/latest/meta-data/iam/security-credentials/"
        if sub.startswith(creds_prefix) or sub == creds_prefix.rstrip("/"):
            if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                return self.send(401, "unauthorized\n")
            role = sub[len(creds_prefix):] if sub.startswith(creds_prefix) else ""
            if role == "":
                return self.send(200, IMDS_ROLE)
            if role != IMDS_ROLE:
                return self.send(404, "not found\n")
            serial, expires_in = STATE.issue("imds")
            now = time.time()
            return self.send_json(
                200,
                {
                    "Code": "Success",
                    "LastUpdated": iso8601(now),
                    "Type": "AWS-HMAC",
                    "AccessKeyId": "ASIAIMDS%016d" % serial,
                    "SecretAccessKey": f"imds-secret-{serial}",
                    "Token": f"imds-token-{serial}",
                    "Expiration": iso8601(now + expires_in),
                },
            )
        return self.send(404, "not found\n")

    def container_creds(self):
        if self.headers.get("Authorization") != CONTAINER_AUTH:
            return self.send(401, "unauthorized\n")
        serial, expires_in = STATE.issue("container")
        return self.send_json(
            200,
            {
                "AccessKeyId": "ASIACONT%016d" % serial,
                "SecretAccessKey": f"container-secret-{serial}",
                "Token": f"container-token-{serial}",
                "Expiration": iso8601(time.time() + expires_in),
            },
        )

    # S3 region redirect stand-in (path style) -----------------------------

    def region_bucket(self, bucket):
        region = sigv4_region(self.headers, self.query)
        hdr = {"x-amz-bucket-region": REDIRECT_REGION}
        if self.command == "HEAD":
            if bucket == "bw-region-redirect":
                return self.send(301, b"", ctype=None, headers=hdr)
            if region != REDIRECT_REGION:
                return self.send(400, b"", ctype=None)
            return self.send(200, b"", ctype=None, headers=hdr)
        if region != REDIRECT_REGION:
            if bucket == "bw-region-redirect":
                body = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    "<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting "
                    "to access must be addressed using the specified endpoint.</Message>"
                    f"<Endpoint>{bucket}.s3.{REDIRECT_REGION}.amazonaws.com</Endpoint>"
                    f"<Bucket>{bucket}</Bucket><RequestId>r1</RequestId></Error>"
                )
                return self.send_xml(301, body, headers=hdr)
            shown = (region or "us-east-1").replace("<", "").replace("&", "")
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                "<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization "
                f"header is malformed; the region '{shown}' is wrong; expecting "
                f"'{REDIRECT_REGION}'</Message><Region>{REDIRECT_REGION}</Region>"
                "<RequestId>r1</RequestId></Error>"
            )
            return self.send_xml(400, body)
        # Right region: a minimal bucket.
        q = self.query
        if "versioning" in q:
            return self.send_xml(
                200,
                f'<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="{S3_NS}">'
                "<Status>Enabled</Status></VersioningConfiguration>",
            )
        if "location" in q:
            return self.send_xml(
                200,
                f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="{S3_NS}">'
                f"{REDIRECT_REGION}</LocationConstraint>",
            )
        not_found = {
            "cors": ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
            "encryption": (
                "ServerSideEncryptionConfigurationNotFoundError",
                "The server side encryption configuration was not found",
            ),
            "policy": ("NoSuchBucketPolicy", "The bucket policy does not exist"),
            "publicAccessBlock": (
                "NoSuchPublicAccessBlockConfiguration",
                "The public access block configuration was not found",
            ),
        }
        for sub, (code, msg) in not_found.items():
            if sub in q:
                return self.send_xml(404, s3_error_xml(code, msg, f"<BucketName>{bucket}</BucketName>"))
        return self.send_xml(404, s3_error_xml("NoSuchKey", "The specified key does not exist."))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5056
    srv = Server(("127.0.0.1", port), Handler)
    sys.stderr.write(f"fault_server: listening on 127.0.0.1:{port}\n")
    sys.stderr.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
