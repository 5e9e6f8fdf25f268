#!/usr/bin/env python3
"""Seed gcp-storage-emulator with GCS buckets in every compliant and drifted shape.

Usage: seed_gcs.py OUT.json [BASE_URL]     (BASE_URL default http://127.0.0.1:9023)

Stdlib only (urllib). Each bucket differs from the compliant shape of the
`wandb-byob` baseline (docs/byob-baseline.md, GCS section) in one way. Buckets
that already exist are deleted and created again, so running this twice (or
against an emulator started by hand) gives the same state.

Compliant shape: versioning enabled; softDeletePolicy 7 days (the emulator's
default for new buckets); no default KMS key; one CORS entry
{"origin":["*"],"method":["GET","HEAD","PUT"],"responseHeader":["Content-Type","ETag"],"maxAgeSeconds":3600};
bucket IAM binding roles/storage.admin for the vendor's SaaS service account;
no public binding.

Emulator quirk: PATCH replaces a nested object as a whole (softDeletePolicy,
iamConfiguration, versioning, ...), so every PATCH sends the complete object.
A null value in a PATCH is ignored (it cannot remove a field): a drifted shape
is reached from a fresh bucket, never by removing something.

Every bucket is read back (bucket resource and IAM policy) and compared with
what was meant. If the emulator refused or changed something, a WARN line names
the bucket and the field, and the script exits 3 (peers.sh reports it) after
writing OUT.json. Other failures exit 1.

OUT.json: {"endpoint": BASE_URL, "project": "test", "vendor_service_account": ...,
"missing_bucket": "gcs-does-not-exist", "buckets": [names...],
"shapes": {name: "what differs"}}. No secrets: the emulator checks no token.
"""

import copy
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

PROJECT = "test"
VENDOR_SA = "wandb-integration@wandb-production.iam.gserviceaccount.com"
VENDOR_MEMBER = "serviceAccount:" + VENDOR_SA
MISSING_BUCKET = "gcs-does-not-exist"
SEVEN_DAYS = str(7 * 86400)
KMS_KEY = "projects/test/locations/us/keyRings/bw-ring/cryptoKeys/bw-key"

COMPLIANT_CORS = [
    {
        "origin": ["*"],
        "method": ["GET", "HEAD", "PUT"],
        "responseHeader": ["Content-Type", "ETag"],
        "maxAgeSeconds": 3600,
    }
]
VENDOR_BINDING = {"role": "roles/storage.admin", "members": [VENDOR_MEMBER]}
IAM_CONFIG_DEFAULT = {
    "bucketPolicyOnly": {"enabled": False},
    "uniformBucketLevelAccess": {"enabled": False},
}


def compliant():
    """The compliant shape: PATCH body (without soft delete: the default is kept) and IAM bindings."""
    return {
        "patch": {"versioning": {"enabled": True}, "cors": copy.deepcopy(COMPLIANT_CORS)},
        "bindings": [copy.deepcopy(VENDOR_BINDING)],
        # What must read back (None: the field must be absent).
        "expect": {
            "versioning": {"enabled": True},
            "softDeleteSeconds": SEVEN_DAYS,
            "defaultKmsKeyName": None,
            "cors": copy.deepcopy(COMPLIANT_CORS),
            "publicAccessPrevention": None,
        },
    }


def shape(name, what, change):
    s = compliant()
    change(s)
    return name, what, s


def _versioning_off(s):
    s["patch"]["versioning"] = {"enabled": False}
    s["expect"]["versioning"] = {"enabled": False}


def _softdelete(seconds):
    def change(s):
        # The whole object: the emulator replaces nested objects on PATCH.
        s["patch"]["softDeletePolicy"] = {"retentionDurationSeconds": seconds}
        s["expect"]["softDeleteSeconds"] = seconds
    return change


def _cmek(s):
    s["patch"]["encryption"] = {"defaultKmsKeyName": KMS_KEY}
    s["expect"]["defaultKmsKeyName"] = KMS_KEY


def _cors_missing(s):
    del s["patch"]["cors"]
    s["expect"]["cors"] = None


def _cors(entry_change):
    def change(s):
        entry = copy.deepcopy(COMPLIANT_CORS[0])
        entry_change(entry)
        s["patch"]["cors"] = [entry]
        s["expect"]["cors"] = [copy.deepcopy(entry)]
    return change


def _iam_missing(s):
    s["bindings"] = [{"role": "roles/storage.objectViewer", "members": ["serviceAccount:someone-else@test.iam.gserviceaccount.com"]}]


def _iam_conditional(s):
    s["bindings"] = [
        dict(
            VENDOR_BINDING,
            condition={
                "title": "expires-2030",
                "description": "vendor access until 2030",
                "expression": 'request.time < timestamp("2030-01-01T00:00:00Z")',
            },
        )
    ]


def _public(s):
    s["bindings"].append({"role": "roles/storage.objectViewer", "members": ["allUsers"]})


def _pap_enforced(s):
    config = dict(copy.deepcopy(IAM_CONFIG_DEFAULT), publicAccessPrevention="enforced")
    s["patch"]["iamConfiguration"] = config
    s["expect"]["publicAccessPrevention"] = "enforced"


SHAPES = [
    shape("gcs-compliant", "none", lambda s: None),
    shape("gcs-versioning-off", "versioning {enabled: false}", _versioning_off),
    shape("gcs-softdelete-off", "softDeletePolicy retentionDurationSeconds \"0\"", _softdelete("0")),
    shape("gcs-softdelete-short", "softDeletePolicy 2 days (real GCS allows 7-90 days or 0)", _softdelete(str(2 * 86400))),
    shape("gcs-cmek", "encryption.defaultKmsKeyName set", _cmek),
    shape("gcs-cors-missing", "no cors field", _cors_missing),
    shape("gcs-cors-noput", "cors methods GET, HEAD", _cors(lambda e: e.update(method=["GET", "HEAD"]))),
    shape("gcs-cors-no-etag", "cors responseHeader Content-Type only (compliant with a warning)",
          _cors(lambda e: e.update(responseHeader=["Content-Type"]))),
    shape("gcs-iam-missing", "no binding for the vendor service account", _iam_missing),
    shape("gcs-iam-conditional", "the vendor binding has a condition", _iam_conditional),
    shape("gcs-public", "extra binding roles/storage.objectViewer allUsers", _public),
    shape("gcs-pap-enforced", "iamConfiguration.publicAccessPrevention enforced (otherwise compliant)", _pap_enforced),
]


class Emulator:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.api = self.base + "/storage/v1"

    def call(self, method, path, body=None, ok=(200,)):
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.api + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        if status not in ok:
            raise SeedError(f"{method} {path}: HTTP {status} {raw[:200]!r}")
        if not raw:
            return status, None
        try:
            return status, json.loads(raw)
        except ValueError:
            raise SeedError(f"{method} {path}: HTTP {status}, body is not JSON: {raw[:200]!r}")

    def bucket_path(self, name):
        return "/b/" + urllib.parse.quote(name, safe="")


class SeedError(Exception):
    pass


def seed_one(emu, name, s):
    path = emu.bucket_path(name)
    # Start from a fresh bucket: the emulator cannot remove fields through PATCH.
    emu.call("DELETE", path, ok=(200, 204, 404))
    emu.call("POST", "/b?project=" + PROJECT, {"name": name})
    if s["patch"]:
        emu.call("PATCH", path, s["patch"])
    emu.call("PUT", path + "/iam", {"version": 3, "bindings": s["bindings"]})


def verify_one(emu, name, s):
    """Returns the differences between what was meant and what reads back."""
    problems = []
    path = emu.bucket_path(name)
    _, bucket = emu.call("GET", path)
    _, policy = emu.call("GET", path + "/iam?optionsRequestedPolicyVersion=3")
    bucket = bucket or {}
    exp = s["expect"]

    def differs(field, want, got):
        if want != got:
            problems.append(f"{field}: wanted {json.dumps(want)}, reads back {json.dumps(got)}")

    differs("versioning", exp["versioning"], bucket.get("versioning"))
    soft = bucket.get("softDeletePolicy") or {}
    got_soft = soft.get("retentionDurationSeconds")
    differs("softDeletePolicy.retentionDurationSeconds", exp["softDeleteSeconds"], None if got_soft is None else str(got_soft))
    differs("encryption.defaultKmsKeyName", exp["defaultKmsKeyName"], (bucket.get("encryption") or {}).get("defaultKmsKeyName"))
    differs("cors", exp["cors"], bucket.get("cors"))
    iam_config = bucket.get("iamConfiguration") or {}
    differs("iamConfiguration.publicAccessPrevention", exp["publicAccessPrevention"], iam_config.get("publicAccessPrevention"))
    if "uniformBucketLevelAccess" not in iam_config:
        problems.append("iamConfiguration.uniformBucketLevelAccess was dropped (a PATCH replaced the nested object)")
    differs("iam bindings", s["bindings"], (policy or {}).get("bindings"))
    return problems


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: seed_gcs.py OUT.json [BASE_URL]\n")
        return 2
    out = argv[1]
    base = (argv[2] if len(argv) > 2 else "http://127.0.0.1:9023").rstrip("/")
    emu = Emulator(base)
    warned = False
    try:
        for name, _, s in SHAPES:
            seed_one(emu, name, s)
        for name, what, s in SHAPES:
            for problem in verify_one(emu, name, s):
                warned = True
                print(f"seed_gcs: WARN {name} ({what}): {problem}", flush=True)
        # The "missing bucket" scenario: make sure nobody created it.
        emu.call("DELETE", emu.bucket_path(MISSING_BUCKET), ok=(200, 204, 404))
        status, _ = emu.call("GET", emu.bucket_path(MISSING_BUCKET), ok=(404,))
    except (SeedError, urllib.error.URLError, OSError) as e:
        sys.stderr.write(f"seed_gcs: ERROR {e}\n")
        return 1
    config = {
        "endpoint": base,
        "project": PROJECT,
        "vendor_service_account": VENDOR_SA,
        "missing_bucket": MISSING_BUCKET,
        "buckets": [name for name, _, _ in SHAPES],
        "shapes": {name: what for name, what, _ in SHAPES},
    }
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(config, f, indent=1, sort_keys=True)
        f.write("\n")
    import os
    os.replace(tmp, out)
    print(f"seed_gcs: {len(SHAPES)} buckets on {base}" + (" (with WARN lines above)" if warned else ""), flush=True)
    return 3 if warned else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
