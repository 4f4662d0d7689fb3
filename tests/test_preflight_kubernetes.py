"""preflight asks each EKS cluster's API whether the team namespaces are there and whether the
caller may manage what the stacks put in them (issue 23, point 2).

The cluster is tests/kube_api_server.py: real TLS with a CA of its own (what DescribeCluster's
certificateAuthority.data holds), authentication as EKS does it (the presigned GetCallerIdentity
token), and SelfSubjectAccessReview answered from rules written here. The rest of the account is
the moto server, seeded as in tests/test_preflight.py.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from generators import kubernetes, naming
from generators.kubernetes import namespace_uses
from generators.provision import kube_access
from generators.provision.preflight import Preflight
from tests.kube_api_server import KubeApiServer, certificate_pair
from tests.test_preflight import account, by, manifests_for, seed, stub_what_moto_lacks  # noqa: F401 - the fixture

EKS_EDIT = {  # what EKS's AmazonEKSEditPolicy lets a principal do here, in short: no RBAC objects
    "horizontalpodautoscalers", "serviceaccounts", "cronjobs", "deployments",
}


def checks(account, tmp_path, org=None) -> dict[str, Any]:
    manifests = manifests_for(tmp_path, org or seed(account.setup, broken=False))
    stub_what_moto_lacks(account, manifests)
    report = Preflight(manifests, account.client).run()
    return {c.subject: c for c in by(report, "kubernetes-access")}, manifests


def test_each_team_namespace_is_checked_with_every_kind_and_verb_its_stack_needs(account, tmp_path):
    found, manifests = checks(account, tmp_path)
    uses = [use for loaded in manifests.teams for use in namespace_uses(loaded.manifest, manifests.org)]
    assert uses and set(found) == {f"clusters.{u.cluster}/{u.namespace} ({u.team})" for u in uses}
    assert {c.status for c in found.values()} == {"pass"}
    for use in uses:
        server = account.kube[use.cluster]
        asked = {(a.get("verb"), a.get("resource"), a.get("namespace")) for method, _, a in server.requests if method == "POST"}
        expected = {(verb, kind.resource, use.namespace) for kind in use.kinds for verb in kubernetes.MANAGE_VERBS}
        assert expected <= asked, use
        if kubernetes.ROLE_BINDING in use.kinds:
            roles = {naming.serving_scaler(use.team, scaled.pool) for scaled in use.scaled_deployments}
            assert {a["name"] for m, _, a in server.requests if a.get("verb") == "bind"} == roles
    # every request carried a token the server resolved to the moto account's caller
    assert all(arn.startswith("arn:aws:") for server in account.kube.values() for arn in server.callers)


def test_only_namespace_reads_and_access_reviews_reach_the_cluster(account, tmp_path):
    """Read-only: GETs of the team namespaces and SelfSubjectAccessReviews, which the API server
    evaluates without storing anything."""
    checks(account, tmp_path)
    requests = [(method, path) for server in account.kube.values() for method, path, _ in server.requests]
    assert requests
    for method, path in requests:
        assert (method == "GET" and path.startswith("/api/v1/namespaces/")) or (method, path) == ("POST", kube_access.REVIEW_PATH)


def test_a_missing_namespace_fails_with_both_ways_out(account, tmp_path):
    account.kube["genai-west"].namespaces.pop("charlie")
    found, _ = checks(account, tmp_path)
    check = found["clusters.genai-west/charlie (charlie)"]
    assert check.status == "fail"
    assert "namespace charlie does not exist: create it (kubectl create namespace charlie) or set clusters.genai-west.create_namespaces: true" in check.detail
    assert found["clusters.genai-shared/bravo (bravo)"].status == "pass"


def test_with_create_namespaces_a_missing_namespace_needs_the_right_to_create_namespaces(account, tmp_path):
    org = seed(account.setup, broken=False)
    org["clusters"]["genai-west"]["create_namespaces"] = True
    west = account.kube["genai-west"]
    west.namespaces.pop("charlie")
    west.rule = lambda arn, a: a["resource"] != "namespaces" or a["verb"] in ("get",)
    found, _ = checks(account, tmp_path, org)
    check = found["clusters.genai-west/charlie (charlie)"]
    assert check.status == "fail" and "may not create/patch/delete namespaces" in check.detail
    cluster_scoped = [a for m, _, a in west.requests if a.get("resource") == "namespaces"]
    assert cluster_scoped and all("namespace" not in a for a in cluster_scoped)


def test_with_create_namespaces_a_namespace_of_someone_else_fails(account, tmp_path):
    org = seed(account.setup, broken=False)
    org["clusters"]["genai-west"]["create_namespaces"] = True
    account.kube["genai-west"].namespaces["charlie"] = {"team": "payments"}
    found, _ = checks(account, tmp_path, org)
    check = found["clusters.genai-west/charlie (charlie)"]
    assert check.status == "fail" and "exists and is not team charlie's (its team label is payments)" in check.detail


def test_with_create_namespaces_the_teams_own_namespace_passes(account, tmp_path):
    """Re-running preflight after the first deploy: the namespace the stack created is its own."""
    org = seed(account.setup, broken=False)
    org["clusters"]["genai-west"]["create_namespaces"] = True
    account.kube["genai-west"].namespaces["charlie"] = {"team": "charlie"}
    found, _ = checks(account, tmp_path, org)
    assert found["clusters.genai-west/charlie (charlie)"].status == "pass"


def test_eks_edit_access_cannot_create_the_serving_schedules_role_binding(account, tmp_path):
    """Kubernetes RBAC: creating a RoleBinding needs `bind` on its Role or every permission it
    grants (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#restrictions-on-role-binding-creation-or-update).
    EKS's edit-level policy has neither roles nor rolebindings nor bind
    (https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html, AmazonEKSEditPolicy)."""
    def edit(arn: str, a: dict[str, Any]) -> bool:
        return a["resource"] in EKS_EDIT or (a["resource"] == "namespaces" and a["verb"] == "get")

    account.kube["genai-west"].rule = edit
    found, _ = checks(account, tmp_path)
    detail = found["clusters.genai-west/charlie (charlie)"].detail
    assert found["clusters.genai-west/charlie (charlie)"].status == "fail"
    assert "create/get/patch/delete roles" in detail and "create/get/patch/delete rolebindings" in detail
    # holding deployments/scale (edit does) makes the binding itself possible without `bind`
    assert "bind role" not in detail


@pytest.mark.parametrize("bind, scale, status", [(False, False, "fail"), (True, False, "pass"), (False, True, "pass")])
def test_bind_or_holding_the_scale_permission_is_each_enough_for_the_binding(account, tmp_path, bind, scale, status):
    def rule(arn: str, a: dict[str, Any]) -> bool:
        if a["verb"] == "bind":
            return bind
        return scale if a["resource"] == "deployments" else True

    account.kube["genai-west"].rule = rule
    found, manifests = checks(account, tmp_path)
    check = found["clusters.genai-west/charlie (charlie)"]
    assert check.status == status, check.detail
    charlie = next(loaded.manifest for loaded in manifests.teams if loaded.manifest.team == "charlie")
    scheduled = [pool for pool in charlie.inference if pool.autoscaling is not None and pool.cluster == "genai-west"]
    assert scheduled and charlie.schedule is not None
    for pool in scheduled:
        assert (f"bind role {naming.serving_scaler('charlie', pool.name)}" in check.detail) == (status == "fail")


def test_a_caller_without_an_access_entry_fails_in_one_line(account, tmp_path, monkeypatch):
    """EKS answers 401 to a principal with no access entry."""
    monkeypatch.setattr(KubeApiServer, "_caller", lambda self, authorization: None)
    found, _ = checks(account, tmp_path)
    assert {c.status for c in found.values()} == {"fail"}
    assert all("401 Unauthorized" in c.detail and "EKS access entry" in c.detail for c in found.values())


def test_a_server_whose_certificate_the_clusters_ca_did_not_sign_is_never_asked(account, tmp_path):
    """TLS verified with DescribeCluster's CA: another CA's certificate is refused before any request."""
    other_ca, _, _ = certificate_pair()
    server = account.kube["genai-west"]
    server_ca = server.ca_pem
    server.ca_pem = other_ca  # DescribeCluster now names a CA that did not sign the server's certificate
    try:
        found, _ = checks(account, tmp_path)
    finally:
        server.ca_pem = server_ca
    check = found["clusters.genai-west/charlie (charlie)"]
    assert check.status == "unverified" and "TLS verification with the cluster's CA (DescribeCluster) failed" in check.detail
    assert server.requests == []


def test_an_unreachable_endpoint_is_unverified_with_why(account, tmp_path, monkeypatch):
    monkeypatch.setattr(KubeApiServer, "endpoint", property(lambda self: "https://127.0.0.1:9"))
    found, _ = checks(account, tmp_path)
    assert {c.status for c in found.values()} == {"unverified"}
    assert all("could not be reached" in c.detail for c in found.values())


@pytest.mark.parametrize("ca", ["not base64!", base64.b64encode(b"not a certificate").decode()])
def test_a_bad_certificate_authority_is_unverified(ca):
    with pytest.raises(kube_access.KubeUnverified, match="not a base64 PEM certificate"):
        kube_access.KubeApi("https://127.0.0.1:6443", ca, "token")


def test_the_token_is_the_aws_cli_s(account):
    """k8s-aws-v1. + base64url (no padding) of a GetCallerIdentity URL presigned for 60 s with
    x-k8s-aws-id signed (awscli/customizations/eks/get_token.py)."""
    token = kube_access.eks_token(account.client("sts", "us-east-1"), "genai-shared")
    assert token.startswith("k8s-aws-v1.") and "=" not in token
    encoded = token[len("k8s-aws-v1."):]
    url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    assert "Action=GetCallerIdentity" in url and "X-Amz-Expires=60" in url and "x-k8s-aws-id" in url.split("X-Amz-SignedHeaders=")[1]


def test_an_answer_that_is_not_a_review_is_unverified_not_allowed(account, tmp_path, monkeypatch):
    """A proxy page or a review without status.allowed never counts as allowed."""
    original = KubeApiServer._handler

    def handler(self):
        cls = original(self)
        post = cls.do_POST

        def do_post(inner):
            if inner.path.endswith("selfsubjectaccessreviews"):
                inner.rfile.read(int(inner.headers.get("Content-Length", "0")))
                inner._send(201, {"kind": "SelfSubjectAccessReview", "status": {"allowed": "yes"}})
            else:
                post(inner)

        cls.do_POST = do_post
        return cls

    monkeypatch.setattr(KubeApiServer, "_handler", handler)
    for server in account.kube.values():
        server.stop()
        server.start()
    found, _ = checks(account, tmp_path)
    assert {c.status for c in found.values()} == {"unverified"}
    assert all("without a status.allowed true or false" in c.detail for c in found.values())
