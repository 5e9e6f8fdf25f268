#!/usr/bin/env python3
"""bucketwatch test peer: transport faults, credential endpoints, S3 region redirects.

Usage: fault_server.py [PORT] [GCP_KEY_FILE]   (default 5056; binds 127.0.0.1 only)

GCP_KEY_FILE (or env FAULT_GCP_KEY_FILE; default .peers/gcp-sa-key.json at the
repo root) receives, at every start, a service-account key JSON for a fresh
RSA 2048 key pair: the Google token endpoint stand-in (/google/token) accepts
JWTs signed with it. Needs the `cryptography` package for those routes only.

A threaded HTTP/1.1 server (stdlib only). Every response carries a
Content-Length, so clients can keep connections alive; X-Connection-Id on
/ok identifies the TCP connection so a client can prove connection reuse.
Routes are listed in scripts/peers/README.md and in route() below.

Nothing secret is logged: the request log is one line per request with the
method, the path without its query, and the status; never headers.
"""

import base64
import datetime
import itertools
import json
import os
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
            # Google stand-ins: lifetime of issued access tokens (global, and per key).
            self.google_expires_in = 3600
            self.google_expires_in_by_key = {}
            self.google_serial = 0
            self.meta_serial = 0
            self.gcs_hits = {}

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


    def google_issue(self, kind, key):
        """Next serial for a 'test' (token endpoint) or 'meta' (metadata) token; counts it."""
        with self.lock:
            if kind == "test":
                self.google_serial += 1
                serial = self.google_serial
                counter = "google_token_issued"
            else:
                self.meta_serial += 1
                serial = self.meta_serial
                counter = "metadata_token_issued"
            for name in (counter, f"{counter}:{key}" if key else None):
                if name:
                    self.stats[name] = self.stats.get(name, 0) + 1
            expires_in = self.google_expires_in_by_key.get(key, self.google_expires_in) if key else self.google_expires_in
            return serial, expires_in

    def count(self, name):
        with self.lock:
            self.stats[name] = self.stats.get(name, 0) + 1

    def gcs_hit(self, path):
        with self.lock:
            n = self.gcs_hits.get(path, 0) + 1
            self.gcs_hits[path] = n
            return n


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


# ---- Google stand-ins: service-account key, token endpoint, metadata server, GCS JSON API ----

GCP_CLIENT_EMAIL = "bucketwatch-test@test-project.iam.gserviceaccount.com"
GCP_KID = "kid1"
GCP_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GCS_PREFIX = "/gcs/storage/v1/b/"
METADATA_TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
VENDOR_MEMBER = "serviceAccount:wandb-integration@wandb-production.iam.gserviceaccount.com"
HUGE_BYTES = 5 * 1024 * 1024
DEEP_LEVELS = 10000


class GoogleKey:
    """The test service account's RSA key pair, made at server start (`cryptography`)."""

    private_key = None
    public_key = None
    public_pem = ""
    port = 5056
    path = None
    error = None

    @classmethod
    def generate(cls, port, path):
        cls.port = port
        cls.path = path
        try:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa
        except ImportError as e:
            cls.error = f"the cryptography package is missing ({e}); pip install cryptography"
            sys.stderr.write(f"fault_server: Google token routes disabled: {cls.error}\n")
            return
        cls.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.public_key = cls.private_key.public_key()
        private_pem = cls.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        cls.public_pem = cls.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        key_json = {
            "type": "service_account",
            "project_id": "test-project",
            "private_key_id": GCP_KID,
            "private_key": private_pem,
            "client_email": GCP_CLIENT_EMAIL,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": cls.token_uri(),
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"http://127.0.0.1:{port}/google/pubkey",
            "universe_domain": "googleapis.com",
        }
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        tmp = f"{path}.tmp-{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(key_json, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
        # Never the key itself: only where it went.
        sys.stderr.write(f"fault_server: test service-account key written to {path}\n")

    @classmethod
    def token_uri(cls, suffix=""):
        return f"http://127.0.0.1:{cls.port}/google/token{suffix}"

    @classmethod
    def verify(cls, signing_input, signature):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            cls.public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
            return True
        except InvalidSignature:
            return False


def default_key_path():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(root, ".peers", "gcp-sa-key.json")


def b64url_decode(part):
    if not part or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in part):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def check_jwt_assertion(assertion, audience, now):
    """None when the assertion is a valid RS256 JWT for the test account, else which check failed."""
    parts = assertion.split(".")
    if len(parts) != 3:
        return "assertion is not a JWT (want three base64url parts)"
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError):
        return "a JWT part is not base64url-encoded JSON"
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return "JWT header or claims are not JSON objects"
    if header.get("alg") != "RS256":
        return "JWT header alg is not RS256"
    if header.get("kid") != GCP_KID:
        return "JWT header kid does not name the key (private_key_id)"
    if not GoogleKey.verify(f"{parts[0]}.{parts[1]}".encode(), signature):
        return "invalid JWT signature"
    if claims.get("iss") != GCP_CLIENT_EMAIL:
        return "claim iss is not the service account's client_email"
    scope = claims.get("scope")
    if not isinstance(scope, str) or GCP_SCOPE not in scope.split(" "):
        return f"claim scope does not contain {GCP_SCOPE}"
    if claims.get("aud") != audience:
        return "claim aud is not the token URI"
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or isinstance(iat, bool) or not isinstance(exp, int) or isinstance(exp, bool):
        return "claims iat and exp must be integers"
    if iat > now + 60:
        return "claim iat is in the future"
    if exp <= now:
        return "claim exp is in the past (JWT expired)"
    if exp - iat > 3600:
        return "exp - iat is more than 3600 s"
    return None


def gcs_error(code, reason, message):
    return {"error": {"code": code, "message": message, "errors": [{"domain": "global", "reason": reason, "message": message}]}}


def gcs_bucket(name):
    """A compliant bucket resource, shaped as GCS sends it (int64 fields as strings)."""
    return {
        "kind": "storage#bucket",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}",
        "id": name,
        "name": name,
        "projectNumber": "123456789012",
        "metageneration": "3",
        "location": "EUROPE-CENTRAL2",
        "storageClass": "STANDARD",
        "etag": "CAM=",
        "timeCreated": "2025-10-27T11:28:06.128Z",
        "updated": "2025-10-27T11:30:00.000Z",
        "softDeletePolicy": {"retentionDurationSeconds": "604800", "effectiveTime": "2025-10-27T11:28:06.128Z"},
        "versioning": {"enabled": True},
        "cors": [
            {
                "origin": ["*"],
                "method": ["GET", "HEAD", "PUT"],
                "responseHeader": ["Content-Type", "ETag"],
                "maxAgeSeconds": 3600,
            }
        ],
        "iamConfiguration": {
            "bucketPolicyOnly": {"enabled": True, "lockedTime": "2026-01-25T11:28:06.128Z"},
            "uniformBucketLevelAccess": {"enabled": True, "lockedTime": "2026-01-25T11:28:06.128Z"},
            "publicAccessPrevention": "inherited",
        },
        "locationType": "region",
        "rpo": "DEFAULT",
    }


def gcs_policy(name, version):
    return {
        "kind": "storage#policy",
        "resourceId": f"projects/_/buckets/{name}",
        "version": version,
        "etag": "CAE=",
        "bindings": [
            {"role": "roles/storage.admin", "members": [VENDOR_MEMBER]},
            {"role": "roles/storage.legacyBucketOwner", "members": ["projectEditor:test-project", "projectOwner:test-project"]},
            {"role": "roles/storage.legacyBucketReader", "members": ["projectViewer:test-project"]},
        ],
    }


def partial_response(obj, fields):
    """`fields=a,b(c)`: keeps the named top-level fields (what the reader asks for)."""
    if not fields:
        return obj
    names, depth, cur = set(), 0, ""
    for ch in fields:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            names.add(cur.split("/")[0].strip())
            cur = ""
            continue
        if depth == 0 and ch not in "()":
            cur += ch
    names.add(cur.split("/")[0].strip())
    return {k: v for k, v in obj.items() if k in names}


_HOSTILE_CACHE = {}


def hostile_body(kind, resource):
    """(status, content type, body bytes) for the auth-hostile-* buckets. Deterministic."""
    key = (kind, resource)
    if key in _HOSTILE_CACHE:
        return _HOSTILE_CACHE[key]
    if kind == "notjson":
        out = (200, "text/html; charset=UTF-8", b"<html><head><title>Sign in</title></head><body>\x00\xff{\"versioning\": <b>captive portal</b></body></html>")
    elif kind == "wrongtypes":
        if resource == "bucket":
            obj = {"kind": "storage#bucket", "name": "auth-hostile-wrongtypes", "versioning": "enabled",
                   "cors": {"origin": "*", "method": "GET,HEAD,PUT"}, "softDeletePolicy": {"retentionDurationSeconds": True},
                   "encryption": ["not", "an", "object"], "iamConfiguration": 7}
        else:
            obj = {"kind": "storage#policy", "version": "three", "bindings": 42}
        out = (200, "application/json; charset=UTF-8", json.dumps(obj).encode())
    elif kind == "huge":
        # Valid JSON, 5 MB: a well-formed bucket with a giant label.
        obj = gcs_bucket("auth-hostile-huge") if resource == "bucket" else gcs_policy("auth-hostile-huge", 3)
        obj["labels"] = {"padding": ""}
        base = len(json.dumps(obj).encode())
        obj["labels"]["padding"] = "x" * max(0, HUGE_BYTES - base)
        out = (200, "application/json; charset=UTF-8", json.dumps(obj).encode())
    elif kind == "deep":
        body = '{"a":' * DEEP_LEVELS + "{}" + "}" * DEEP_LEVELS
        out = (200, "application/json; charset=UTF-8", body.encode())
    else:
        return None
    _HOSTILE_CACHE[key] = out
    return out


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
            if self.q("google_expires_in") is not None:
                # With key=K: only tokens issued on /google/token/K and /meta/K/... get it.
                with STATE.lock:
                    if self.q("key"):
                        STATE.google_expires_in_by_key[self.q("key")] = int(self.q("google_expires_in"))
                    else:
                        STATE.google_expires_in = int(self.q("google_expires_in"))
            with STATE.lock:
                out = {"expires_in": STATE.expires_in, "google_expires_in": STATE.google_expires_in}
                if self.q("key"):
                    out["google_expires_in"] = STATE.google_expires_in_by_key.get(self.q("key"), STATE.google_expires_in)
                return self.send_json(200, out)
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
        if p == "/google/token" or p.startswith("/google/token/"):
            return self.google_token(p[len("/google/token/"):] if p.startswith("/google/token/") else "")
        if p == "/google/pubkey":
            return self.google_pubkey()
        if p == METADATA_TOKEN_PATH:
            return self.metadata_token("", flavor=True)
        if p.startswith("/meta/") and p.endswith(METADATA_TOKEN_PATH):
            key = p[len("/meta/"):-len(METADATA_TOKEN_PATH)]
            if key and "/" not in key:
                return self.metadata_token(key, flavor=True)
        if p == "/gcs-no-flavor" + METADATA_TOKEN_PATH:
            return self.metadata_token("", flavor=False)
        if p.startswith(GCS_PREFIX):
            return self.gcs(p[len(GCS_PREFIX):])
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

    # Google OAuth token endpoint stand-in (JWT bearer, RFC 7523) ----------

    def google_error(self, description):
        STATE.count("google_token_rejected")
        return self.send_json(400, {"error": "invalid_grant", "error_description": description})

    def google_token(self, key):
        if key and "/" in key:
            return self.send(404, "no such route\n")
        if self.command != "POST":
            return self.send_json(405, {"error": "invalid_request", "error_description": "use POST"})
        if GoogleKey.public_key is None:
            return self.send_json(500, {"error": "server_error", "error_description": GoogleKey.error or "no key"})
        ctype = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return self.google_error("Content-Type is not application/x-www-form-urlencoded")
        try:
            form = urllib.parse.parse_qs(self.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return self.google_error("the body is not a form")
        if form.get("grant_type") != [JWT_BEARER]:
            return self.google_error(f"grant_type is not {JWT_BEARER}")
        if len(form.get("assertion", [])) != 1 or not form["assertion"][0]:
            return self.google_error("assertion missing")
        audience = GoogleKey.token_uri("/" + key if key else "")
        failed = check_jwt_assertion(form["assertion"][0], audience, int(time.time()))
        if failed:
            return self.google_error(failed)
        serial, expires_in = STATE.google_issue("test", key)
        return self.send_json(200, {"access_token": f"ya29.test-{serial}", "expires_in": expires_in, "token_type": "Bearer"},
                              headers={"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate"})

    def google_pubkey(self):
        if GoogleKey.public_key is None:
            return self.send_json(500, {"error": GoogleKey.error or "no key"})
        return self.send_json(200, {GCP_KID: GoogleKey.public_pem})

    # GCE metadata server stand-in ------------------------------------------

    def metadata_token(self, key, flavor):
        if self.command != "GET":
            return self.send(405, "method not allowed\n")
        if flavor and self.headers.get("Metadata-Flavor") != "Google":
            return self.send(403, "Missing required header: Metadata-Flavor: Google\n", "text/html; charset=UTF-8")
        serial, expires_in = STATE.google_issue("meta", key)
        body = json.dumps({"access_token": f"ya29.meta-{serial}", "expires_in": expires_in, "token_type": "Bearer"}).encode()
        headers = {"Metadata-Flavor": "Google"} if flavor else {}
        return self.send(200, body, "application/json", headers)

    # GCS JSON API stand-in: needs a bearer token from the stand-ins above --

    def gcs(self, rest):
        parts = rest.split("/")
        if len(parts) == 1 or (len(parts) == 2 and parts[1] == "iam"):
            bucket = urllib.parse.unquote(parts[0])
            resource = "iam" if len(parts) == 2 else "bucket"
        else:
            return self.send_json(404, gcs_error(404, "notFound", "Not Found"))
        auth = self.headers.get("Authorization") or ""
        if not auth:
            return self.send_json(401, gcs_error(401, "required", "Anonymous caller does not have storage.buckets.get access to the Google Cloud Storage bucket."),
                                  headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        if not (token.startswith("ya29.test-") or token.startswith("ya29.meta-")) or token in ("ya29.test-", "ya29.meta-"):
            return self.send_json(401, gcs_error(401, "authError", "Invalid Credentials"),
                                  headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'})
        if self.command != "GET":
            return self.send_json(405, gcs_error(405, "methodNotAllowed", "only GET is served here"))
        version = 3 if self.q("optionsRequestedPolicyVersion") == "3" else 1
        if bucket == "auth-compliant":
            return self.gcs_ok(bucket, resource, version)
        if bucket == "auth-iam-forbidden":
            if resource == "iam":
                msg = ("bucketwatch-test@test-project.iam.gserviceaccount.com does not have storage.buckets.getIamPolicy "
                       "access to the Google Cloud Storage bucket. Permission 'storage.buckets.getIamPolicy' denied on "
                       "resource (or it may not exist).")
                return self.send_json(403, gcs_error(403, "forbidden", msg))
            return self.gcs_ok(bucket, resource, version)
        if bucket.startswith("auth-throttled-") and len(bucket) > len("auth-throttled-"):
            # The first request for each path (bucket, iam) is throttled, the later ones succeed.
            if STATE.gcs_hit(self.rpath) == 1:
                return self.send_json(429, gcs_error(429, "rateLimitExceeded",
                                                     "The total number of requests to the bucket is too high. Please reduce your request rate."))
            return self.gcs_ok(bucket, resource, version)
        if bucket.startswith("auth-hostile-"):
            out = hostile_body(bucket[len("auth-hostile-"):], resource)
            if out is not None:
                status, ctype, body = out
                return self.send(status, body, ctype)
        return self.send_json(404, gcs_error(404, "notFound", "The specified bucket does not exist."))

    def gcs_ok(self, bucket, resource, version):
        if resource == "iam":
            return self.send_json(200, gcs_policy(bucket, version))
        return self.send_json(200, partial_response(gcs_bucket(bucket), self.q("fields")))

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
    key_path = sys.argv[2] if len(sys.argv) > 2 else (os.environ.get("FAULT_GCP_KEY_FILE") or default_key_path())
    srv = Server(("127.0.0.1", port), Handler)
    GoogleKey.generate(port, key_path)
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
