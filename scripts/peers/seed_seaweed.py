#!/usr/bin/env python3
"""Seed SeaweedFS (`weed mini`, S3 on 127.0.0.1:8333) for bucketwatch tests.

Usage: seed_seaweed.py OUT_JSON [S3_JSON]

S3_JSON is the identity file weed was started with (default: s3.json beside
OUT_JSON); its first identity's first credential is used. Buckets:
  bw-weed-compliant  versioning Enabled, the compliant CORS rule, default
                     encryption aws:kms + KMSMasterKeyID "bw-weed-key" (AES256
                     if SeaweedFS refuses that), the compliant bucket policy
  bw-weed-drift      a bare bucket: no versioning, no CORS (nor anything else)
Writes OUT_JSON (see README.md); the secret goes only there, never to stdout.
Exit 0 ok, 1 failure, 3 written but something was refused/changed (WARN lines).
"""

import json
import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

ENDPOINT = os.environ.get("WEED_S3_ENDPOINT", "http://127.0.0.1:8333")
REGION = "us-east-1"
VENDOR = "arn:aws:iam::725579432336:role/WandbIntegration"
KMS_KEY_ID = "bw-weed-key"
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
COMPLIANT_CORS_RULES = [
    {
        "AllowedHeaders": ["*"],
        "AllowedMethods": ["GET", "HEAD", "PUT"],
        "AllowedOrigins": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3600,
    }
]
WARNINGS = []


def warn(msg):
    WARNINGS.append(msg)
    print(f"WARN: {msg}")


def code(e):
    return e.response.get("Error", {}).get("Code", "?")


def compliant_policy(bucket):
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WAndBAccountAccess",
                "Effect": "Allow",
                "Principal": {"AWS": VENDOR},
                "Action": VENDOR_S3_ACTIONS,
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }


def create_bucket(s3, name, deadline):
    """Create (idempotent); retry while weed's filer is still coming up."""
    while True:
        try:
            s3.create_bucket(Bucket=name)
            return
        except ClientError as e:
            if code(e) in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                return
            if time.time() > deadline or e.response["ResponseMetadata"].get("HTTPStatusCode", 0) < 500:
                raise
        except EndpointConnectionError:
            if time.time() > deadline:
                raise
        time.sleep(0.5)


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: seed_seaweed.py OUT_JSON [S3_JSON]", file=sys.stderr)
        return 2
    out_path = sys.argv[1]
    ident_path = sys.argv[2] if len(sys.argv) == 3 else os.path.join(os.path.dirname(os.path.abspath(out_path)), "s3.json")
    with open(ident_path) as f:
        cred = json.load(f)["identities"][0]["credentials"][0]
    akid, secret = cred["accessKey"], cred["secretKey"]

    s3 = boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=akid,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )
    deadline = time.time() + 30

    b = "bw-weed-compliant"
    create_bucket(s3, b, deadline)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": COMPLIANT_CORS_RULES})
    encryption = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_KEY_ID}
    try:
        s3.put_bucket_encryption(
            Bucket=b, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": encryption}]}
        )
    except ClientError as e:
        warn(f"SeaweedFS refused aws:kms default encryption ({code(e)}); using AES256")
        encryption = {"SSEAlgorithm": "AES256"}
        s3.put_bucket_encryption(
            Bucket=b, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": encryption}]}
        )
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(compliant_policy(b)))

    create_bucket(s3, "bw-weed-drift", deadline)

    # Read back: SeaweedFS must keep what it accepted.
    v = s3.get_bucket_versioning(Bucket=b).get("Status")
    if v != "Enabled":
        warn(f"{b}: versioning reads back {v!r}")
    rules = s3.get_bucket_cors(Bucket=b).get("CORSRules")
    if rules != COMPLIANT_CORS_RULES:
        warn(f"{b}: CORS reads back {rules}")
    got = s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
    if got.get("ApplyServerSideEncryptionByDefault") != encryption:
        warn(f"{b}: encryption reads back {got}")
    pol = json.loads(s3.get_bucket_policy(Bucket=b)["Policy"])
    if pol != compliant_policy(b):
        warn(f"{b}: policy reads back {pol}")
    d = s3.get_bucket_versioning(Bucket="bw-weed-drift").get("Status")
    if d is not None:
        warn(f"bw-weed-drift: versioning reads back {d!r}, expected never enabled")
    try:
        s3.get_bucket_cors(Bucket="bw-weed-drift")
        warn("bw-weed-drift: has a CORS configuration")
    except ClientError as e:
        if code(e) != "NoSuchCORSConfiguration":
            warn(f"bw-weed-drift: GetBucketCors answers {code(e)}")

    # The S3-compatible store lacks an API: GET ?publicAccessBlock.
    try:
        s3.get_public_access_block(Bucket=b)
        pab_status, pab_code = 200, "-"
    except ClientError as e:
        pab_status, pab_code = e.response["ResponseMetadata"].get("HTTPStatusCode"), code(e)
    if (pab_status, pab_code) != (501, "NotImplemented"):
        warn(f"GET /{b}?publicAccessBlock answered {pab_status} {pab_code}, expected 501 NotImplemented")

    data = {
        "endpoint": ENDPOINT,
        "region": REGION,
        "access_key_id": akid,
        "secret_access_key": secret,
        "encryption": encryption["SSEAlgorithm"],
        "buckets": [b, "bw-weed-drift"],
        "public_access_block_status": pab_status,
    }
    tmp = out_path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, out_path)
    print(
        f"seaweed: 2 buckets seeded; encryption {encryption['SSEAlgorithm']}; "
        f"GET ?publicAccessBlock -> {pab_status} {pab_code}" + (f"; {len(WARNINGS)} WARN" if WARNINGS else "")
    )
    return 3 if WARNINGS else 0


if __name__ == "__main__":
    sys.exit(main())
