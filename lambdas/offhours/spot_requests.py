"""Persistent spot requests that outlived their instance: found and cancelled by `sync`.

Terraform may leave a persistent request open when it replaces or destroys its instance
(terraform-provider-aws #38142); EC2 then launches another instance for it, which no stack
tracks, billed until the request's end date. Each spot instance's destroy-time guard cancels its
request (modules/gpu_training_instance.py); this sweep catches what the guard could not (requests
from versions before it, a destroy run without the AWS CLI): every open, active or disabled
persistent request in the region that launches with the team's training instance profile and
whose instance is not one the team's stack manages. Requests younger than an hour are left alone:
an apply creates the instance before the function learns its id.

Cancelling a request does not terminate the instance it launched
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-spot-instances-request.html#terminating-a-spot-instance);
the record names that instance so the alert reaches someone who can decide.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

# States in which a persistent request can still launch (or relaunch) an instance:
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-request-status.html
LIVE_STATES = ("open", "active", "disabled")
GRACE_SECONDS = 3600
# CancelSpotInstanceRequests takes request ids; a page of DescribeSpotInstanceRequests is at
# most 1000 (MaxResults 5-1000): https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSpotInstanceRequests.html
PAGE_SIZE = 1000


def launches_with(request: dict[str, Any], profile: str) -> bool:
    found = (request.get("LaunchSpecification") or {}).get("IamInstanceProfile") or {}
    return found.get("Name") == profile or str(found.get("Arn", "")).endswith(f":instance-profile/{profile}")


def orphaned(ec2: Any, profile: str, managed: set[str], now: dt.datetime) -> list[dict[str, Any]]:
    """The team's persistent requests that no managed instance stands for, oldest first."""
    found = []
    paginator = ec2.get_paginator("describe_spot_instance_requests")
    filters = [{"Name": "state", "Values": list(LIVE_STATES)}, {"Name": "type", "Values": ["persistent"]}]
    for page in paginator.paginate(Filters=filters, PaginationConfig={"PageSize": PAGE_SIZE}):
        for request in page.get("SpotInstanceRequests", []):
            if request.get("Type") != "persistent" or request.get("State") not in LIVE_STATES or not launches_with(request, profile):
                continue
            if request.get("InstanceId") in managed:
                continue
            created = request.get("CreateTime")
            if isinstance(created, dt.datetime) and (now - created).total_seconds() < GRACE_SECONDS:
                continue
            found.append(request)
    return sorted(found, key=lambda request: str(request.get("CreateTime", "")))
