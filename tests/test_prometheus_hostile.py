"""Hostile Prometheus answers and URLs (issue 22), from a server on 127.0.0.1 that this test
writes: it answers the Prometheus HTTP API's documented shapes
(https://prometheus.io/docs/prometheus/latest/querying/api/) with values a broken or hostile
exporter, proxy or server could send, redirects, stalls, floods, and checks SigV4 signatures.
The real Prometheus is tested in tests/test_tokens.py."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from typing import Any, Callable, Iterator

import pytest

from generators.errors import ToolError, UsageError
from generators.see.prometheus import Client
from generators.see.tokens import Metrics, tokens
from tests.manifest_helpers import REPO

START = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
END = START + dt.timedelta(days=2)
DAY = 86400


class Fake:
    """A server whose answer to each request is `answer(path, params) -> (status, headers, body)`."""

    def __init__(self, answer: Callable[[str, dict[str, str], dict[str, str]], tuple[int, dict[str, str], bytes]]):
        self.answer = answer
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                parts = urllib.parse.urlsplit(self.path)
                params = dict(urllib.parse.parse_qsl(parts.query))
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append((parts.path, params, headers))
                status, extra, body = fake.answer(self.path, params, headers)
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[Callable[..., Fake]]:
    servers: list[Fake] = []

    def start(answer):
        servers.append(Fake(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def ok(data: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps({"status": "success", "data": data}).encode()


def counters(series: dict[str, list[Any]]) -> Callable:
    """Each series (by pod) has a value at the month start and at each day's end; resets none.
    Values are sent as given (strings, numbers, null, anything)."""

    def answer(path: str, params: dict[str, str], _headers) -> tuple[int, dict[str, str], bytes]:
        query = params["query"]
        if path.startswith("/api/v1/query_range"):
            start, step = float(params["start"]), float(params["step"].rstrip("s"))
            points = int((float(params["end"]) - start) / step) + 1
            result = []
            for pod, values in series.items():
                labels = {"model_name": "m", "pod": pod}
                if query.startswith("resets("):
                    result.append({"metric": labels, "values": [[start + i * step, "0"] for i in range(points)]})
                else:
                    result.append({"metric": labels, "values": [[start + i * step, values[1 + i]] for i in range(points)]})
            return ok({"resultType": "matrix", "result": result})
        at = float(params["time"])
        index = round((at - START.timestamp()) / DAY)
        return ok({"resultType": "vector", "result": [{"metric": {"model_name": "m", "pod": pod}, "value": [at, values[index]]}
                                                       for pod, values in series.items()]})

    return answer


def test_malformed_series_are_passed_over_with_a_note_each_and_the_rest_is_counted(fake):
    server = fake(counters({
        "good": ["100", "150", "300"],
        "nan": ["NaN", "NaN", "NaN"],
        "inf": ["0", "+Inf", "1"],
        "text": ["1", "lots", "2"],
        "null": [None, None, None],
        "negative": ["10", "-10", "20"],
        "object": [{"v": 1}, {"v": 2}, {"v": 3}],
    }))
    client = Client(server.url)

    counts = tokens(client, START, END)

    assert counts == {"m": {"prompt": 200.0, "generation": 200.0}}  # only the good series: 300 - 100
    pods = {note.split("pod='")[1].split("'")[0] for note in client.notes}
    assert pods == {"nan", "inf", "text", "null", "negative", "object"}
    assert all(note.endswith("passed over") for note in client.notes)
    assert any("a counter is never negative" in note for note in client.notes)


@pytest.mark.parametrize(
    "body",
    [
        b'{"status": "success"}',
        b'{"status": "success", "data": {"resultType": "vector"}}',
        b'{"status": "success", "data": {"resultType": "scalar", "result": [1, "2"]}}',
        b'[1, 2, 3]',
        b"not json at all",
        b'{"status": "error", "errorType": "bad_data", "error": "\\u001b[2Jinvalid\\u202e"}',
    ],
)
def test_an_answer_in_the_wrong_shape_is_one_line(fake, body):
    server = fake(lambda *_: (200, {}, body))
    with pytest.raises(ToolError) as failed:
        tokens(server.url, START, END)
    text = str(failed.value)
    assert text.startswith(f"Prometheus at {server.url}") and "\n" not in text
    assert "\x1b" not in text and "\u202e" not in text


def test_an_http_error_names_the_status_and_url_never_the_body(fake):
    server = fake(lambda *_: (500, {"Content-Type": "text/plain"}, b"AccessKeyId ASIAEXAMPLE SecretAccessKey wJalrXUtnFEMI"))
    with pytest.raises(ToolError) as failed:
        tokens(server.url, START, END)
    assert str(failed.value) == f"Prometheus at {server.url} answered HTTP 500"


def test_a_redirect_to_another_origin_is_refused_without_following_it(fake):
    metadata = fake(lambda *_: (200, {}, b'{"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "secret"}'))
    server = fake(lambda path, *_: (302, {"Location": f"{metadata.url}/latest/meta-data/iam/security-credentials/role"}, b""))

    with pytest.raises(ToolError, match=r"redirected \(302\) to another origin, http://127\.0\.0\.1:\d+: refused") as failed:
        tokens(server.url, START, END)

    assert metadata.requests == [] and "secret" not in str(failed.value)


def test_a_redirect_within_the_origin_is_followed(fake):
    inner = counters({"good": ["0", "5", "9"]})

    def answer(path, params, headers):
        if path.startswith("/prometheus/"):
            return inner(path.removeprefix("/prometheus"), params, headers)
        return 307, {"Location": "/prometheus" + path}, b""

    server = fake(answer)
    assert tokens(server.url, START, END) == {"m": {"prompt": 9.0, "generation": 9.0}}


def test_a_body_larger_than_the_cap_is_refused(fake):
    server = fake(lambda *_: ok({"resultType": "vector", "result": [{"metric": {"x": "y" * 1000}, "value": [0, "1"]}] * 3000}))
    with pytest.raises(ToolError, match=r"answered more than 1 MiB: refused"):
        Client(server.url, max_body_bytes=1024 * 1024).instant("up", END)


def test_one_deadline_covers_the_whole_request(fake):
    def slow(*_):
        time.sleep(3)
        return ok({"resultType": "vector", "result": []})

    server = fake(slow)
    began = time.monotonic()
    with pytest.raises(ToolError, match="cannot be reached|did not answer within"):
        Client(server.url, deadline_seconds=1).instant("up", END)
    assert time.monotonic() - began < 2.5


@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:text/plain,hello", "ftp://127.0.0.1/x", "gopher://127.0.0.1", "http://", "127.0.0.1:9090"])
def test_only_http_and_https_urls_are_accepted(url):
    with pytest.raises(UsageError, match="expected an http:// or https:// URL"):
        Client(url)


def test_the_command_refuses_a_file_url_with_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "generators.cli", "showback", "--billing", str(tmp_path), "--prometheus", "file:///etc/passwd"],
                            cwd=REPO, capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO)))
    # checked before the billing data (the folder is empty: that would be exit 1)
    assert result.returncode == 2 and "root:" not in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert "--prometheus 'file:///etc/passwd': expected an http:// or https:// URL" in result.stderr


# --------------------------------------------------------------------------- Amazon Managed Service for Prometheus


def verified_sigv4(headers: dict[str, str], url: str, credentials) -> str | None:
    """Why the request's SigV4 signature is wrong, or None: recomputed with botocore over the
    headers the Authorization header says were signed, at the request's own X-Amz-Date."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    authorization = headers.get("authorization", "")
    if not authorization.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization header"
    fields = dict(part.strip().split("=", 1) for part in authorization.removeprefix("AWS4-HMAC-SHA256 ").split(","))
    _, date, region, service, _ = fields["Credential"].split("/")
    if service != "aps":
        return f"service {service}, expected aps"
    signed = fields["SignedHeaders"].split(";")
    request = AWSRequest(method="GET", url=url, headers={name: headers[name] for name in signed})
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(credentials, "aps", region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return None if expected == fields["Signature"] else "signature mismatch"


def test_amp_requests_are_signed_with_sigv4_for_aps(fake, monkeypatch):
    from botocore.credentials import Credentials

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    inner = counters({"good": ["0", "5", "9"]})
    seen: list[str | None] = []

    def answer(path, params, headers):
        problem = verified_sigv4(headers, f"{server.url}{path}", credentials)
        seen.append(problem)
        if problem:
            return 403, {}, json.dumps({"message": problem}).encode()
        return inner(path, params, headers)

    server = fake(answer)
    assert tokens(Client(server.url, sigv4_region="us-east-1"), START, END) == {"m": {"prompt": 9.0, "generation": 9.0}}
    assert seen and set(seen) == {None}

    # an unsigned request is what AMP refuses
    with pytest.raises(ToolError, match="answered HTTP 403"):
        tokens(server.url, START, END)


def test_an_amp_workspace_url_is_signed_without_being_told(monkeypatch):
    client = Client("https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0a1b2c3d/")
    assert client.sigv4_region == "eu-west-1"
    assert Client("http://prometheus.monitoring:9090").sigv4_region is None


def test_metric_and_label_names_that_are_not_promql_are_usage_errors():
    with pytest.raises(UsageError, match="--model-label"):
        Metrics(model_label="model name").check()
    with pytest.raises(UsageError, match="--generation-metric"):
        Metrics(generation='x"}) or vector(1) #').check()
