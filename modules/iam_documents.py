"""Pieces of IAM and KMS policy documents that every construct writes the same way."""

from __future__ import annotations

import json
from typing import Any

# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
POLICY_VERSION = "2012-10-17"


def policy_document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": POLICY_VERSION, "Statement": list(statements)})


def account_administers_key(partition: str, account_id: str) -> dict[str, Any]:
    """The default key policy statement: the account administers the key and IAM policies in
    it decide who uses it, so a customer managed key can never become unmanageable
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)."""
    return {
        "Sid": "EnableAccountAdministration",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
