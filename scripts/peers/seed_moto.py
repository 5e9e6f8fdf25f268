#!/usr/bin/env python3
"""Seed the moto server (S3, KMS, IAM, STS) for bucketwatch tests.

Usage: seed_moto.py OUT_JSON [--probe]

Against http://127.0.0.1:5055 (override: MOTO_ENDPOINT): turns auth off,
resets all state, seeds IAM users/role, KMS keys and the bw-* buckets, reads
every bucket back to prove moto kept what was sent, switches SigV4/IAM
checking ON, writes OUT_JSON (see README.md) and checks auth works (the
reader, the nopolicy reader, a wrong secret, and the admin user's s3:*).

Secrets (generated test access keys) go only into OUT_JSON, never to stdout.
Anything moto refuses or silently changes is printed as a WARN line and makes
the exit status 3 (after the JSON was written); hard failures exit 1.
--probe: also print how moto answers a few authenticated KMS/S3/STS calls.
"""

import json
import os
import sys
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("MOTO_ENDPOINT", "http://127.0.0.1:5055")
REGION = "us-east-1"
ACCOUNT = "123456789012"
VENDOR = "arn:aws:iam::725579432336:role/WandbIntegration"

READER_ACTIONS = [
    "s3:GetBucketVersioning",
    "s3:GetBucketCORS",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
]
VENDOR_S3_ACTIONS = [
    "s3:GetObject*",
    "s3:GetEncryptionConfiguration",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:PutObject",
    "s3:GetBucketCORS",
    "s3:GetBucketLocation",
    "s3:GetBucketVersioning",
]
VENDOR_KMS_ACTIONS = ["kms:Decrypt", "kms:Describe*", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
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
PAB_ON = {k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
PAB_OFF = {k: False for k in PAB_ON}

WARNINGS = []


def warn(msg):
    WARNINGS.append(msg)
    print(f"WARN: {msg}")


def moto_api(path, body=b""):
    # text/plain: with a form content type Flask hides the body from moto.
    req = urllib.request.Request(ENDPOINT + path, data=body, method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def client(service, akid="testing", secret="testing", token=None):
    cfg = Config(
        region_name=REGION,
        retries={"max_attempts": 1, "mode": "standard"},
        s3={"addressing_style": "path"},
        connect_timeout=10,
        read_timeout=60,
    )
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=akid,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=cfg,
    )


def err_code(e):
    return e.response.get("Error", {}).get("Code", "?")


def attempt(desc, fn):
    """Run fn; a refusal is recorded and reported, never silently dropped."""
    try:
        return fn()
    except ClientError as e:
        warn(f"moto refused {desc}: {err_code(e)}: {e.response.get('Error', {}).get('Message', '')}")
        return None


# ---- policies ---------------------------------------------------------------


def reader_policy(actions):
    return {"Version": "2012-10-17", "Statement": [{"Sid": "BucketwatchRead", "Effect": "Allow", "Action": actions, "Resource": "*"}]}


def key_policy(with_vendor):
    st = [
        {
            "Sid": "Internal",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if with_vendor:
        st.append(
            {
                "Sid": "External",
                "Effect": "Allow",
                "Principal": {"AWS": VENDOR},
                "Action": VENDOR_KMS_ACTIONS,
                "Resource": "*",
            }
        )
    return {"Version": "2012-10-17", "Id": "bucketwatch-test", "Statement": st}


def vendor_statement(bucket, actions=None, condition=None):
    st = {
        "Sid": "WAndBAccountAccess",
        "Effect": "Allow",
        "Principal": {"AWS": VENDOR},
        "Action": list(actions or VENDOR_S3_ACTIONS),
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    }
    if condition:
        st["Condition"] = condition
    return st


def bucket_policy(statements):
    return {"Version": "2012-10-17", "Statement": statements}


# ---- bucket specs -----------------------------------------------------------


def bucket_specs(keys):
    """name -> desired state. Each is the compliant shape with one change."""

    def compliant(name):
        return {
            "versioning": ["Enabled"],  # sequence of PutBucketVersioning statuses
            "encryption": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": keys["good"]},
            "cors": COMPLIANT_CORS,
            "policy": bucket_policy([vendor_statement(name)]),
            "pab": PAB_ON,
        }

    specs = {}

    def add(name, **changes):
        s = compliant(name)
        s.update(changes)
        specs[name] = s

    add("bw-compliant")
    add("bw-versioning-suspended", versioning=["Enabled", "Suspended"])
    add("bw-versioning-never", versioning=[])
    add("bw-encryption-aes256", encryption={"SSEAlgorithm": "AES256"})
    add("bw-encryption-none", encryption=None)
    add("bw-kms-nogrant", encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": keys["nogrant"]})
    add("bw-kms-disabled", encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": keys["disabled"]})
    add("bw-cors-missing", cors=None)
    noput = json.loads(json.dumps(COMPLIANT_CORS))
    noput["CORSRules"][0]["AllowedMethods"] = ["GET", "HEAD"]
    add("bw-cors-noput", cors=noput)
    add("bw-policy-missing", policy=None)
    partial = [a for a in VENDOR_S3_ACTIONS if a not in ("s3:DeleteObject", "s3:PutObject")]
    add("bw-policy-partial", policy=bucket_policy([vendor_statement("bw-policy-partial", partial)]))
    add(
        "bw-policy-deny",
        policy=bucket_policy(
            [
                vendor_statement("bw-policy-deny"),
                {
                    "Sid": "DenyVendorPut",
                    "Effect": "Deny",
                    "Principal": {"AWS": VENDOR},
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::bw-policy-deny/*",
                },
            ]
        ),
    )
    add(
        "bw-policy-conditional",
        policy=bucket_policy(
            [vendor_statement("bw-policy-conditional", condition={"StringEquals": {"aws:SourceVpce": "vpce-1234"}})]
        ),
    )
    add(
        "bw-public",
        policy=bucket_policy(
            [
                vendor_statement("bw-public"),
                {
                    "Sid": "PublicRead",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::bw-public/*",
                },
            ]
        ),
        pab=PAB_OFF,
    )
    add("bw-pab-missing", pab=None)
    add("bw.dotted.name")
    # Reserved for the daemon end-to-end tests (Tests/e2e), which change and restore them.
    add("bw-e2e-cors", cors=None)
    add("bw-e2e-versioning", versioning=["Enabled", "Suspended"])
    return specs


def seed_bucket(s3, name, spec):
    """Apply spec; return True if the bucket exists afterwards."""
    if attempt(f"CreateBucket {name}", lambda: s3.create_bucket(Bucket=name)) is None:
        return False
    for status in spec["versioning"]:
        attempt(
            f"PutBucketVersioning {status} on {name}",
            lambda: s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status}),
        )
    if spec["encryption"] is not None:
        attempt(
            f"PutBucketEncryption on {name}",
            lambda: s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": spec["encryption"]}]},
            ),
        )
    if spec["cors"] is not None:
        attempt(f"PutBucketCors on {name}", lambda: s3.put_bucket_cors(Bucket=name, CORSConfiguration=spec["cors"]))
    # Public access block before the policy: AWS would refuse a public policy
    # while BlockPublicPolicy is on (bw-public turns it off first).
    if spec["pab"] is not None:
        attempt(
            f"PutPublicAccessBlock on {name}",
            lambda: s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=spec["pab"]),
        )
    if spec["policy"] is not None:
        attempt(
            f"PutBucketPolicy on {name}",
            lambda: s3.put_bucket_policy(Bucket=name, Policy=json.dumps(spec["policy"])),
        )
    return True


def read_or_code(fn):
    try:
        r = fn()
        r.pop("ResponseMetadata", None)
        return r
    except ClientError as e:
        return {"__error__": err_code(e)}


def verify_bucket(s3, name, spec):
    """Read every setting back; warn where moto did not keep what was sent."""
    v = read_or_code(lambda: s3.get_bucket_versioning(Bucket=name))
    want = spec["versioning"][-1] if spec["versioning"] else None
    if v.get("Status") != want:
        warn(f"{name}: versioning reads back {v.get('Status') or v.get('__error__')!r}, sent {want!r}")

    e = read_or_code(lambda: s3.get_bucket_encryption(Bucket=name))
    if spec["encryption"] is None:
        if e.get("__error__") != "ServerSideEncryptionConfigurationNotFoundError":
            warn(f"{name}: expected no encryption config, got {e}")
    else:
        rules = e.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        got = rules[0].get("ApplyServerSideEncryptionByDefault") if rules else e
        if got != spec["encryption"]:
            warn(f"{name}: encryption reads back {got}, sent {spec['encryption']}")

    c = read_or_code(lambda: s3.get_bucket_cors(Bucket=name))
    if spec["cors"] is None:
        if c.get("__error__") != "NoSuchCORSConfiguration":
            warn(f"{name}: expected no CORS, got {c}")
    elif c.get("CORSRules") != spec["cors"]["CORSRules"]:
        warn(f"{name}: CORS reads back {c}, sent {spec['cors']}")

    p = read_or_code(lambda: s3.get_bucket_policy(Bucket=name))
    if spec["policy"] is None:
        if p.get("__error__") != "NoSuchBucketPolicy":
            warn(f"{name}: expected no policy, got {p}")
    else:
        try:
            got = json.loads(p.get("Policy", "null"))
        except ValueError:
            got = p
        if got != spec["policy"]:
            warn(f"{name}: policy reads back {got}, sent {spec['policy']}")

    b = read_or_code(lambda: s3.get_public_access_block(Bucket=name))
    if spec["pab"] is None:
        if b.get("__error__") != "NoSuchPublicAccessBlockConfiguration":
            warn(f"{name}: expected no public access block, got {b}")
    elif b.get("PublicAccessBlockConfiguration") != spec["pab"]:
        warn(f"{name}: public access block reads back {b}, sent {spec['pab']}")


# ---- main -------------------------------------------------------------------


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    probe = "--probe" in sys.argv[1:]
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out_path = args[0]

    # Auth off (a previous run may have left it on), then drop all state.
    moto_api("/moto-api/reset-auth", b"inf")
    moto_api("/moto-api/reset")

    iam, kms, s3 = client("iam"), client("kms"), client("s3")

    # IAM users and their keys.
    creds = {}
    for user, actions in (
        ("bucketwatch-reader", READER_ACTIONS),
        ("bucketwatch-nopolicy", [a for a in READER_ACTIONS if a != "s3:GetBucketPolicy"]),
    ):
        iam.create_user(UserName=user)
        iam.put_user_policy(
            UserName=user, PolicyName="bucketwatch-least-privilege", PolicyDocument=json.dumps(reader_policy(actions))
        )
        k = iam.create_access_key(UserName=user)["AccessKey"]
        creds[user] = {"access_key_id": k["AccessKeyId"], "secret_access_key": k["SecretAccessKey"]}

    # Admin user (s3:* on *): the daemon end-to-end tests use it to fix and re-break buckets.
    iam.create_user(UserName="bucketwatch-admin")
    iam.put_user_policy(
        UserName="bucketwatch-admin",
        PolicyName="bucketwatch-admin-s3",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Sid": "S3Admin", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    k = iam.create_access_key(UserName="bucketwatch-admin")["AccessKey"]
    creds["bucketwatch-admin"] = {"access_key_id": k["AccessKeyId"], "secret_access_key": k["SecretAccessKey"]}

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": "*"}, "Action": "sts:AssumeRoleWithWebIdentity"}
        ],
    }
    role = iam.create_role(RoleName="bucketwatch-reader-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(
        RoleName="bucketwatch-reader-role",
        PolicyName="bucketwatch-least-privilege",
        PolicyDocument=json.dumps(reader_policy(READER_ACTIONS)),
    )

    # KMS keys.
    keys, key_ids = {}, {}
    for name, with_vendor in (("good", True), ("nogrant", False), ("disabled", True)):
        meta = kms.create_key(
            Policy=json.dumps(key_policy(with_vendor)),
            Description=f"bucketwatch test key: {name}",
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
        )["KeyMetadata"]
        keys[name] = meta["Arn"]
        key_ids[name] = meta["KeyId"]
        got = json.loads(kms.get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"])
        if got != key_policy(with_vendor):
            warn(f"KMS key {name}: key policy reads back {got}")
    # moto quirk: DisableKey with a key ARN fails with a 500 (KeyError); the key id works.
    kms.disable_key(KeyId=key_ids["disabled"])
    for name, state in (("good", "Enabled"), ("nogrant", "Enabled"), ("disabled", "Disabled")):
        got = kms.describe_key(KeyId=keys[name])["KeyMetadata"]["KeyState"]
        if got != state:
            warn(f"KMS key {name}: state {got}, expected {state}")

    # Buckets.
    specs = bucket_specs(keys)
    buckets = []
    for name, spec in specs.items():
        if seed_bucket(s3, name, spec):
            buckets.append(name)
            verify_bucket(s3, name, spec)
    listed = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    if listed != sorted(buckets):
        warn(f"ListBuckets shows {listed}, seeded {sorted(buckets)}")

    # Switch SigV4 + IAM checking on: from now on every request is verified.
    moto_api("/moto-api/reset-auth", b"0")

    data = {
        "endpoint": ENDPOINT,
        "region": REGION,
        "account_id": ACCOUNT,
        "reader": creds["bucketwatch-reader"],
        "nopolicy_reader": creds["bucketwatch-nopolicy"],
        "admin": creds["bucketwatch-admin"],
        "role_arn": role["Arn"],
        "kms": keys,
        "buckets": buckets,
    }
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, out_path)

    # Auth checks with the generated keys (secrets stay out of the output).
    r, n = creds["bucketwatch-reader"], creds["bucketwatch-nopolicy"]
    failures = []
    try:
        st = client("s3", r["access_key_id"], r["secret_access_key"]).get_bucket_versioning(Bucket="bw-compliant")
        if st.get("Status") != "Enabled":
            failures.append(f"reader GetBucketVersioning bw-compliant: status {st.get('Status')!r}")
    except ClientError as e:
        failures.append(f"reader GetBucketVersioning bw-compliant: {err_code(e)}")
    a = creds["bucketwatch-admin"]
    try:
        admin_s3 = client("s3", a["access_key_id"], a["secret_access_key"])
        admin_s3.put_bucket_versioning(Bucket="bw-e2e-versioning", VersioningConfiguration={"Status": "Suspended"})
        st = admin_s3.get_bucket_versioning(Bucket="bw-e2e-versioning")
        if st.get("Status") != "Suspended":
            failures.append(f"admin GetBucketVersioning bw-e2e-versioning: status {st.get('Status')!r}")
    except ClientError as e:
        failures.append(f"admin PutBucketVersioning bw-e2e-versioning: {err_code(e)}")
    for label, akid, secret, op, want in (
        ("nopolicy GetBucketPolicy", n["access_key_id"], n["secret_access_key"], "get_bucket_policy", "AccessDenied"),
        ("wrong secret", r["access_key_id"], r["secret_access_key"] + "x", "get_bucket_versioning", "SignatureDoesNotMatch"),
    ):
        try:
            getattr(client("s3", akid, secret), op)(Bucket="bw-compliant")
            failures.append(f"{label}: succeeded, expected {want}")
        except ClientError as e:
            if err_code(e) != want:
                failures.append(f"{label}: {err_code(e)}, expected {want}")

    if probe:
        run_probes(creds, keys, role["Arn"])

    if failures:
        for f in failures:
            print(f"FAIL: {f}")
        print("moto: seeded, but the auth checks failed", file=sys.stderr)
        return 1
    print(
        f"moto: {len(buckets)} buckets, {len(keys)} KMS keys, 3 IAM users, 1 role seeded; auth ON; "
        "reader GetBucketVersioning ok, admin PutBucketVersioning ok, nopolicy GetBucketPolicy AccessDenied, "
        "wrong secret SignatureDoesNotMatch"
        + (f"; {len(WARNINGS)} WARN" if WARNINGS else "")
    )
    return 3 if WARNINGS else 0


def run_probes(creds, keys, role_arn):
    """Print how moto answers authenticated calls (documentation aid)."""
    r = creds["bucketwatch-reader"]

    def show(label, fn):
        try:
            res = fn()
            res.pop("ResponseMetadata", None)
            summary = ",".join(sorted(res.keys()))
            print(f"PROBE {label}: ok ({summary})")
            return res
        except ClientError as e:
            print(f"PROBE {label}: {e.response['ResponseMetadata'].get('HTTPStatusCode')} {err_code(e)}")
        except Exception as e:  # noqa: BLE001 - probing
            print(f"PROBE {label}: {type(e).__name__}: {str(e)[:200]}")

    rk = client("kms", r["access_key_id"], r["secret_access_key"])
    rs = client("s3", r["access_key_id"], r["secret_access_key"])
    for name in ("good", "nogrant", "disabled"):
        show(f"reader kms DescribeKey {name}", lambda: rk.describe_key(KeyId=keys[name]))
        show(f"reader kms GetKeyPolicy {name}", lambda: rk.get_key_policy(KeyId=keys[name], PolicyName="default"))
    show("reader kms ListKeys (not granted)", lambda: rk.list_keys())
    for op in ("get_bucket_policy", "get_bucket_cors", "get_bucket_encryption", "get_public_access_block", "get_bucket_location"):
        show(f"reader s3 {op} bw-compliant", lambda: getattr(rs, op)(Bucket="bw-compliant"))
    show("reader s3 get_bucket_versioning bw.dotted.name", lambda: rs.get_bucket_versioning(Bucket="bw.dotted.name"))
    show("reader s3 put_bucket_versioning (not granted)", lambda: rs.put_bucket_versioning(
        Bucket="bw-compliant", VersioningConfiguration={"Status": "Enabled"}))
    show("reader s3 list_buckets (not granted)", lambda: rs.list_buckets())
    n = creds["bucketwatch-nopolicy"]
    show("nopolicy s3 get_bucket_cors", lambda: client("s3", n["access_key_id"], n["secret_access_key"]).get_bucket_cors(Bucket="bw-compliant"))
    show("unknown key s3 get_bucket_versioning", lambda: client("s3", "AKIAUNKNOWN000000000", "x").get_bucket_versioning(Bucket="bw-compliant"))
    # AssumeRoleWithWebIdentity is an unsigned call on AWS.
    from botocore import UNSIGNED

    sts_unsigned = boto3.client(
        "sts", endpoint_url=ENDPOINT, region_name=REGION, config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1})
    )
    res = show(
        "sts AssumeRoleWithWebIdentity unsigned",
        lambda: sts_unsigned.assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="bw-test", WebIdentityToken="header.payload.signature"
        ),
    )
    if res is None:
        # moto 5.2.1 answers 500 (KeyError 'HTTP_AUTHORIZATION') to any unsigned
        # request while auth is on. Work-around: auth off for one call.
        moto_api("/moto-api/reset-auth", b"inf")
        try:
            res = show(
                "sts AssumeRoleWithWebIdentity unsigned, auth briefly off",
                lambda: sts_unsigned.assume_role_with_web_identity(
                    RoleArn=role_arn, RoleSessionName="bw-test", WebIdentityToken="header.payload.signature"
                ),
            )
        finally:
            moto_api("/moto-api/reset-auth", b"0")
    if res and "Credentials" in res:
        c = res["Credentials"]
        rc = client("s3", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        show("role session s3 get_bucket_versioning", lambda: rc.get_bucket_versioning(Bucket="bw-compliant"))
        show("role session s3 get_bucket_policy", lambda: rc.get_bucket_policy(Bucket="bw-compliant"))


if __name__ == "__main__":
    sys.exit(main())
