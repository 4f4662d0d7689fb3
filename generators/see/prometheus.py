"""A Prometheus HTTP API client for hostile answers (Prometheus, AMP, Thanos, Mimir).

Every answer is hostile until checked (README, "Hostile input"): the URL must be http or https;
a redirect to another origin is refused (one to the instance metadata service would hand out
credentials); one deadline covers each whole request and its body is capped; a response body is
never printed (the status and the URL are; Prometheus' own error text, from its documented error
JSON, is shown made visible and capped). A series with a value that is not a finite number, or
a counter that goes negative, is passed over with a note, never a traceback or a negative count.

Amazon Managed Service for Prometheus refuses unsigned requests: a URL of an AMP workspace
(`aps-workspaces.<region>.amazonaws.com`) is signed with SigV4 (service `aps`, botocore's
default credential chain: https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-onboard-query-APIs.html);
`sigv4_region` forces signing for an AMP endpoint behind another name (a VPC endpoint, a proxy).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from generators.errors import ToolError, UsageError
from generators.safe_text import message

# One deadline for a whole request (connect, answer and body), and a cap on the body: the
# largest answer here is one value per series and day (1,000 series x 31 days is ~2 MB).
DEADLINE_SECONDS = 60
MAX_BODY_BYTES = 64 * 1024 * 1024
AMP_HOST = re.compile(r"^aps-workspaces\.([a-z0-9-]+)\.amazonaws\.com$")


class Malformed(ValueError):
    """One series of an answer is not in the documented shape or holds a bad value."""


def _value(raw: Any, what: str, counter: bool = False) -> float:
    """A sample value as Prometheus sends it (a string, per the API); finite, and for a counter
    not negative."""
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        raise Malformed(f"{what} is {type(raw).__name__}, not a number")
    try:
        number = float(raw)
    except ValueError:
        raise Malformed(f"{what} is {message(raw, 40)!r}, not a number") from None
    if not math.isfinite(number):
        raise Malformed(f"{what} is {message(raw, 40)}, not a finite number")
    if counter and number < 0:
        raise Malformed(f"{what} is {number:g}: a counter is never negative")
    return number


def _points(values: list, counter: bool) -> list[tuple[float, float]]:
    """[time, value] pairs as numbers. The common case (a number and a string that parses to a
    finite number) takes one comprehension: a month of hourly points for thousands of series is
    millions of them. Anything else is checked point by point, to say what is wrong."""
    try:
        samples = [(float(at), float(value)) for at, value in values]
        if all(math.isfinite(at) and math.isfinite(value) and (not counter or value >= 0) for at, value in samples) and all(
                type(at) in (int, float) and type(value) is str for at, value in values):
            return samples
    except (TypeError, ValueError):
        pass
    out = []
    for point in values:
        if not isinstance(point, list) or len(point) != 2:
            raise Malformed("a sample that is not [time, value]")
        out.append((_value(point[0], "a sample's time"), _value(point[1], "a sample", counter)))
    return out


def _labels(series: Any) -> dict[str, str]:
    if not isinstance(series, dict) or not isinstance(series.get("metric"), dict):
        raise Malformed("a series without its labels")
    labels = series["metric"]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise Malformed("labels that are not text")
    return labels


def _describe(labels: dict[str, str]) -> str:
    shown = ", ".join(f"{k}={v!r}" for k, v in sorted(labels.items()))
    return "{" + message(shown, 160) + "}"


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only within the URL's own scheme, host and port."""

    def __init__(self, origin: tuple[str, str]):
        self.origin = origin

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        target = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl))
        if (target.scheme, target.netloc) != self.origin:
            raise ToolError(
                f"Prometheus at {message(urllib.parse.urlunsplit((*self.origin, '', '', '')))} redirected ({code}) to another origin, "
                f"{message(target.scheme + '://' + target.netloc, 120)}: refused (a redirect may point at credentials); use the final URL"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@dataclass
class Client:
    """The Prometheus HTTP API at `url`, checked, bounded and (for AMP) signed; it counts its
    requests and collects a note for every series it passed over."""

    url: str
    sigv4_region: str | None = None
    deadline_seconds: float = DEADLINE_SECONDS
    max_body_bytes: int = MAX_BODY_BYTES
    requests: int = 0
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--prometheus {message(self.url, 120)!r}: expected an http:// or https:// URL of the Prometheus HTTP API")
        self.origin = (parts.scheme, parts.netloc)
        amp = AMP_HOST.match(parts.hostname or "")
        if self.sigv4_region is None and amp:
            self.sigv4_region = amp.group(1)
        self.shown = message(urllib.parse.urlunsplit((parts.scheme, parts.hostname + (f":{parts.port}" if parts.port else ""), parts.path, "", "")), 160)
        self._opener = urllib.request.build_opener(_SameOrigin(self.origin))
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ transport

    def _request(self, address: str) -> urllib.request.Request:
        request = urllib.request.Request(address, headers={"Accept": "application/json"})
        if self.sigv4_region:
            request = self._signed(address)
        return request

    def _signed(self, address: str) -> urllib.request.Request:
        """SigV4 for AMP (service `aps`), with botocore's default credential chain."""
        import botocore.session
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        credentials = botocore.session.get_session().get_credentials()
        if credentials is None:
            raise ToolError(f"Prometheus at {self.shown} is Amazon Managed Service for Prometheus and needs signed requests: no AWS credentials found")
        aws = AWSRequest(method="GET", url=address, headers={"Accept": "application/json"})
        SigV4Auth(credentials.get_frozen_credentials(), "aps", self.sigv4_region).add_auth(aws)
        return urllib.request.Request(address, headers=dict(aws.headers.items()))

    def get(self, path: str, params: dict[str, str]) -> Any:
        """The `data` of a successful API answer; anything else is one line (status and URL,
        never the body, but for Prometheus' own error text)."""
        address = self.url.rstrip("/") + path + "?" + urllib.parse.urlencode(params)
        deadline = time.monotonic() + self.deadline_seconds
        with self._lock:  # requests may go out from several threads (see/hourly.py)
            self.requests += 1
        status, body = None, b""
        try:
            with self._opener.open(self._request(address), timeout=self.deadline_seconds) as response:
                status = response.status
                body = self._read(response, deadline)
        except urllib.error.HTTPError as error:
            status = error.code
            try:
                body = self._read(error, deadline)
            except ToolError:
                body = b""
            raise ToolError(f"Prometheus at {self.shown} answered HTTP {error.code}{self._error_text(body)}") from None
        except ToolError:
            raise
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise ToolError(f"Prometheus at {self.shown} cannot be reached: {message(reason, 160)}") from None
        try:
            answer = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ToolError(f"Prometheus at {self.shown} answered HTTP {status} with a body that is not JSON") from None
        if not isinstance(answer, dict):
            raise ToolError(f"Prometheus at {self.shown} answered JSON that is not the API's object")
        if answer.get("status") != "success":
            raise ToolError(f"Prometheus at {self.shown} answered an error{self._error_text(body)}")
        if not isinstance(answer.get("data"), dict):
            raise ToolError(f"Prometheus at {self.shown} answered without data")
        return answer["data"]

    def _read(self, response: Any, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise ToolError(f"Prometheus at {self.shown} did not answer within {self.deadline_seconds:g} s")
            chunk = response.read(1024 * 1024)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_body_bytes:
                raise ToolError(f"Prometheus at {self.shown} answered more than {self.max_body_bytes // 1024**2} MiB: refused")
            chunks.append(chunk)

    @staticmethod
    def _error_text(body: bytes) -> str:
        """Prometheus' documented error object (errorType, error), shown made visible and capped;
        any other body is not shown."""
        try:
            answer = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return ""
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            kind = answer.get("errorType") if isinstance(answer.get("errorType"), str) else "error"
            return f": {message(kind, 40)}: {message(answer['error'], 200)}"
        return ""

    # ------------------------------------------------------------------ queries

    def _series(self, data: Any, kind: str, query: str) -> list[Any]:
        if data.get("resultType") != kind or not isinstance(data.get("result"), list):
            raise ToolError(f"Prometheus at {self.shown} answered {message(query, 120)} with {message(data.get('resultType'), 40)}, expected a {kind}")
        return data["result"]

    def note(self, what: str, labels: dict[str, str] | None, reason: str) -> None:
        self.notes.append(f"{what} series {_describe(labels) if labels is not None else ''}: {reason}; passed over")

    def instant(self, query: str, at: dt.datetime, what: str = "", counter: bool = False) -> list[tuple[dict[str, str], float]]:
        """(labels, value) of an instant vector query evaluated at `at`; malformed series noted."""
        out = []
        for series in self._series(self.get("/api/v1/query", {"query": query, "time": f"{at.timestamp():.3f}"}), "vector", query):
            labels = None
            try:
                labels = _labels(series)
                point = series.get("value")
                if not isinstance(point, list) or len(point) != 2:
                    raise Malformed("a value that is not [time, value]")
                out.append((labels, _value(point[1], "its value", counter)))
            except Malformed as bad:
                self.note(what or query, labels, str(bad))
        return out

    def matrix(self, query: str, at: dt.datetime, what: str, counter: bool = False) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        """(labels, samples) of a range vector selector evaluated at `at` (raw samples)."""
        return self._samples(self.get("/api/v1/query", {"query": query, "time": f"{at.timestamp():.3f}"}), query, what, counter)

    def range(self, query: str, start: dt.datetime, end: dt.datetime, step: dt.timedelta, what: str,
              counter: bool = False) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        """(labels, [(time, value)]) of a range query from `start` to `end` every `step`."""
        params = {"query": query, "start": f"{start.timestamp():.3f}", "end": f"{end.timestamp():.3f}", "step": f"{step.total_seconds():.0f}s"}
        return self._samples(self.get("/api/v1/query_range", params), query, what, counter)

    def _samples(self, data: Any, query: str, what: str, counter: bool) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        out = []
        for series in self._series(data, "matrix", query):
            labels = None
            try:
                labels = _labels(series)
                values = series.get("values")
                if not isinstance(values, list):
                    raise Malformed("no list of samples")
                out.append((labels, _points(values, counter)))
            except Malformed as bad:
                self.note(what, labels, str(bad))
        return out


def client_for(source: str | Client) -> Client:
    return source if isinstance(source, Client) else Client(source)


def instant(source: str | Client, query: str, at: dt.datetime) -> list[dict[str, Any]]:
    """The series of an instant vector query at `at`, each {"metric": labels, "value": [t, v]}
    with a finite value (others noted on the client)."""
    client = client_for(source)
    return [{"metric": labels, "value": [at.timestamp(), value]} for labels, value in client.instant(query, at)]
