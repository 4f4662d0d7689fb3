"""May the caller deploy a team's Kubernetes objects? preflight asks the EKS cluster's API, read-only.

Authentication is what `aws eks get-token` does (awscli/customizations/eks/get_token.py): a
GetCallerIdentity URL presigned for 60 seconds with the `x-k8s-aws-id: <cluster>` header signed
in, base64url without padding after `k8s-aws-v1.`, sent as a bearer token; EKS resolves it to
the IAM principal and maps that through the cluster's access entries. TLS is verified with the
cluster's own CA from DescribeCluster (certificateAuthority.data, base64 PEM) and the endpoint's
host name: never the system store, never unverified.

Only two kinds of request are sent: GET of a namespace, and SelfSubjectAccessReview, which the
API server evaluates and does not store ("SelfSubjectAccessReview checks whether or not the
current user can perform an action", https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access;
every authenticated user may create one through the default system:basic-user ClusterRole,
https://kubernetes.io/docs/reference/access-authn-authz/rbac/#discovery-roles). Answers are
bounded: one deadline per request, a size cap, no redirects followed, nothing echoed but the
status and the API's own reason, made visible and capped.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from generators import kubernetes, naming
from generators.kubernetes import Kind, NamespaceUse
from generators.safe_text import message

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
# The presigned URL's lifetime, as the AWS CLI signs it (URL_TIMEOUT = 60).
PRESIGN_SECONDS = 60
TIMEOUT_SECONDS = 15
MAX_BODY_BYTES = 1 << 20
# A review answer is a few hundred bytes; a namespace object a few KiB.
REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


class KubeUnverified(Exception):
    """The cluster could not be asked (unreachable, TLS refused, an answer that is not the API's)."""


class KubeRefused(Exception):
    """The cluster answered that it does not know the caller (401): no access entry."""


def eks_token(sts_client: Any, cluster: str) -> str:
    """A bearer token for `cluster`, signed with the STS client's credentials, as `aws eks get-token` makes it."""

    def keep_cluster_id(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if CLUSTER_ID_HEADER in params:
            context[CLUSTER_ID_HEADER] = params.pop(CLUSTER_ID_HEADER)

    def sign_cluster_id(request: Any, **_: Any) -> None:
        if CLUSTER_ID_HEADER in request.context:
            request.headers[CLUSTER_ID_HEADER] = request.context[CLUSTER_ID_HEADER]

    events = sts_client.meta.events
    events.register("provide-client-params.sts.GetCallerIdentity", keep_cluster_id, unique_id="genai-finops-k8s-aws-id-params")
    events.register("before-sign.sts.GetCallerIdentity", sign_cluster_id, unique_id="genai-finops-k8s-aws-id-sign")
    url = sts_client.generate_presigned_url(
        "get_caller_identity", Params={CLUSTER_ID_HEADER: cluster}, ExpiresIn=PRESIGN_SECONDS, HttpMethod="GET"
    )
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


class KubeApi:
    """A minimal client of one cluster's API server: JSON in and out, TLS pinned to the cluster's CA."""

    def __init__(self, endpoint: str, ca_data: str, token: str) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise KubeUnverified(f"the cluster endpoint is not an https URL of a host: {message(endpoint, 120)}")
        try:
            pem = base64.b64decode(ca_data, validate=True).decode("ascii")
            self._context = ssl.create_default_context(cadata=pem)
        except (binascii.Error, UnicodeDecodeError, ValueError, ssl.SSLError) as error:
            raise KubeUnverified(f"the cluster's certificateAuthority.data is not a base64 PEM certificate ({type(error).__name__})") from error
        self._host, self._port = parts.hostname, parts.port or 443
        self._token = token

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json", "User-Agent": "genai-finops-preflight"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPSConnection(self._host, self._port, timeout=TIMEOUT_SECONDS, context=self._context)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read(MAX_BODY_BYTES + 1)
        except ssl.SSLCertVerificationError as error:
            raise KubeUnverified(f"TLS verification with the cluster's CA (DescribeCluster) failed: {message(error.verify_message, 120)}") from error
        except (OSError, http.client.HTTPException) as error:
            # socket.timeout and ConnectionRefused are OSErrors; a private endpoint is unreachable
            # from outside its VPC.
            reason = "timed out" if isinstance(error, socket.timeout) else message(error, 120)
            raise KubeUnverified(f"the cluster's API endpoint could not be reached ({reason}); a private endpoint needs preflight to "
                "run inside its network") from error
        finally:
            connection.close()
        if len(raw) > MAX_BODY_BYTES:
            raise KubeUnverified(f"{method} {path}: the answer is larger than {MAX_BODY_BYTES} bytes")
        try:
            answer = json.loads(raw) if raw else {}
        except (ValueError, UnicodeDecodeError):
            answer = None
        if not isinstance(answer, dict):
            raise KubeUnverified(f"{method} {path} answered HTTP {response.status} with something that is not a Kubernetes API object")
        if response.status == 401:
            raise KubeRefused("the cluster does not accept the caller (401 Unauthorized): give its IAM principal an EKS access entry "
                "(README, Kubernetes access)")
        return response.status, answer

    def namespace_labels(self, name: str) -> dict[str, str] | None:
        """The namespace's labels; None when it does not exist."""
        status, answer = self._request("GET", f"/api/v1/namespaces/{quote(name, safe='')}")
        if status == 404:
            return None
        if status != 200:
            raise KubeUnverified(f"reading namespace {name} answered HTTP {status}: {_reason(answer)}")
        labels = (answer.get("metadata") or {}).get("labels") or {}
        return {str(key): str(value) for key, value in labels.items()} if isinstance(labels, dict) else {}

    def may(self, verb: str, kind: Kind, namespace: str = "", *, subresource: str = "", name: str = "") -> bool:
        attributes = {"verb": verb, "group": kind.group, "resource": kind.resource}
        for key, value in (("namespace", namespace), ("subresource", subresource), ("name", name)):
            if value:
                attributes[key] = value
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {"resourceAttributes": attributes}}
        status, answer = self._request("POST", REVIEW_PATH, review)
        if status not in (200, 201):
            raise KubeUnverified(f"SelfSubjectAccessReview answered HTTP {status}: {_reason(answer)}")
        allowed = (answer.get("status") or {}).get("allowed")
        if not isinstance(allowed, bool):
            raise KubeUnverified("SelfSubjectAccessReview answered without a status.allowed true or false")
        return allowed


def _reason(answer: dict[str, Any]) -> str:
    return message(answer.get("message") or answer.get("reason") or "no reason given", 160)


# --------------------------------------------------------------------------- the verdict per namespace


@dataclass(frozen=True)
class Verdict:
    ok: bool
    detail: str


SCALE = Kind(kubernetes.SCALE_RULE_GROUP, kubernetes.SCALE_RULE_RESOURCE, "")


def check_namespace(api: KubeApi, use: NamespaceUse, cluster: str) -> Verdict:
    """Does the namespace exist (or may the caller create it), and may the caller manage every kind the stack puts there?"""
    labels = api.namespace_labels(use.namespace)
    problems: list[str] = []
    kinds = list(use.kinds)
    if labels is None and not use.created:
        problems.append(f"namespace {use.namespace} does not exist: create it (kubectl create namespace {use.namespace}) "
                        f"or set clusters.{cluster}.create_namespaces: true in org.yaml")
    elif labels is not None and use.created and labels.get("team") != use.team:
        problems.append(f"namespace {use.namespace} exists and is not team {use.team}'s (its team label is "
                        f"{message(labels.get('team', 'absent'), 40)}): the stack would fail to create it; "
                        f"set clusters.{cluster}.create_namespaces: false, or import it into the team's stack")
    elif labels is None:
        kinds.insert(0, kubernetes.NAMESPACE)
    denied = []
    for kind in kinds:
        scope = "" if kind is kubernetes.NAMESPACE else use.namespace
        missing = [verb for verb in kubernetes.MANAGE_VERBS if not api.may(verb, kind, scope)]
        if missing:
            denied.append(f"{'/'.join(missing)} {kind.resource}")
    if kubernetes.ROLE_BINDING in use.kinds:
        denied.extend(_binding_problems(api, use))
    if denied:
        problems.append(f"the caller may not {'; '.join(denied)} in {use.namespace}: "
                        "give its access entry the policy the README names (Kubernetes access)")
    if problems:
        return Verdict(False, "; ".join(problems))
    made = ", ".join(kind.resource for kind in kinds)
    state = "will be created" if labels is None else "exists"
    return Verdict(True, f"namespace {use.namespace} {state}; the caller may {'/'.join(kubernetes.MANAGE_VERBS)} {made}")


def _binding_problems(api: KubeApi, use: NamespaceUse) -> list[str]:
    """A RoleBinding may only be created by whom may `bind` its Role or already holds what it grants
    (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#restrictions-on-role-binding-creation-or-update)."""
    problems = []
    for pool_deployment in use.scaled_deployments:
        role = naming.serving_scaler(use.team, pool_deployment.pool)
        if api.may("bind", kubernetes.ROLE, use.namespace, name=role):
            continue
        held = all(
            api.may(verb, SCALE, use.namespace, subresource=kubernetes.SCALE_RULE_SUBRESOURCE, name=pool_deployment.deployment)
            for verb in kubernetes.SCALE_RULE_VERBS
        )
        if not held:
            problems.append(f"bind role {role} (neither `bind` on it nor {'/'.join(kubernetes.SCALE_RULE_VERBS)} "
                            f"on deployments/{pool_deployment.deployment}/scale, which it grants)")
    return problems
