"""A local HTTPS server answering the slice of the Kubernetes API preflight uses, the way EKS does.

- TLS with a certificate for 127.0.0.1 signed by a CA made here: the CA is what DescribeCluster's
  `certificateAuthority.data` holds (base64 of the PEM), so the client must verify with it.
- Authentication as EKS does it: the bearer token `k8s-aws-v1.<base64url presigned URL>` is
  decoded, and the presigned GetCallerIdentity URL must sign `x-k8s-aws-id` and expire in 60 s;
  the caller's ARN is what the moto server's STS answers for the URL's access key. Anything else
  gets 401 with a Status object
  (https://kubernetes.io/docs/reference/access-authn-authz/authentication/, EKS: aws-iam-authenticator).
- `GET /api/v1/namespaces/{name}`: the Namespace object, or 404 with a NotFound Status.
- `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`: the review with
  `status.allowed` from this server's rules
  (https://kubernetes.io/docs/reference/kubernetes-api/authorization-resources/self-subject-access-review-v1/).
Everything else is 404. Every request is recorded (method, path, review attributes).
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.moto_server import FAKE_CREDENTIALS

Rule = Callable[[str, dict[str, Any]], bool]  # (caller ARN, resourceAttributes) -> allowed


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def certificate_pair(host: str = "127.0.0.1") -> tuple[bytes, bytes, bytes]:
    """(CA PEM, server certificate PEM, server key PEM): the server's for `host`, signed by the CA."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("kubernetes"))
        .issuer_name(_name("kubernetes"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("kube-apiserver"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ca.public_bytes(pem), server.public_bytes(pem), key_pem


def allow_all(_arn: str, _attributes: dict[str, Any]) -> bool:
    return True


@dataclass
class KubeApiServer:
    cluster: str
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> labels
    rule: Rule = allow_all
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    callers: list[str] = field(default_factory=list)

    def start(self) -> KubeApiServer:
        self.ca_pem, cert_pem, key_pem = certificate_pair()
        folder = Path(tempfile.mkdtemp(prefix="kube-api-"))
        (folder / "cert.pem").write_bytes(cert_pem)
        (folder / "key.pem").write_bytes(key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def ca_data(self) -> str:
        return base64.b64encode(self.ca_pem).decode()

    def _caller(self, authorization: str) -> str | None:
        """The ARN EKS would see: call the presigned URL, as EKS's authenticator does."""
        prefix = "Bearer k8s-aws-v1."
        if not authorization.startswith(prefix):
            return None
        encoded = authorization[len(prefix):]
        try:
            url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except ValueError:
            return None
        query = parse_qs(urlsplit(url).query)
        if query.get("Action") != ["GetCallerIdentity"] or "x-k8s-aws-id" not in query.get("X-Amz-SignedHeaders", [""])[0].split(";"):
            return None
        if query.get("X-Amz-Expires") != ["60"]:
            return None
        # STS identifies the caller by the access key the URL was signed with. moto's server picks
        # the service from an Authorization header, which a presigned GET has not, so the same
        # question goes to it as a signed call with that key.
        credential = query.get("X-Amz-Credential", [""])[0].split("/")
        if len(credential) != 5 or credential[3] != "sts":
            return None
        parts = urlsplit(url)
        sts = boto3.client(
            "sts", region_name=credential[2], endpoint_url=f"{parts.scheme}://{parts.netloc}",
            aws_access_key_id=credential[0], aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        try:
            return str(sts.get_caller_identity()["Arn"])
        except Exception:  # noqa: BLE001 - any failure is "not authenticated", as EKS answers it
            return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _status(self, code: int, reason: str, text: str) -> None:
                self._send(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                  "message": text, "reason": reason, "code": code})

            def _authenticated(self) -> str | None:
                arn = server._caller(self.headers.get("Authorization", ""))
                if arn is None:
                    self._status(401, "Unauthorized", "Unauthorized")
                else:
                    server.callers.append(arn)
                return arn

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests.append(("GET", self.path, {}))
                if self._authenticated() is None:
                    return
                prefix = "/api/v1/namespaces/"
                name = self.path[len(prefix):] if self.path.startswith(prefix) else ""
                if not name or "/" in name:
                    self._status(404, "NotFound", "the server could not find the requested resource")
                elif name not in server.namespaces:
                    self._status(404, "NotFound", f'namespaces "{name}" not found')
                else:
                    self._send(200, {"kind": "Namespace", "apiVersion": "v1",
                                     "metadata": {"name": name, "labels": server.namespaces[name]}, "status": {"phase": "Active"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                review = json.loads(self.rfile.read(length) or b"{}")
                attributes = (review.get("spec") or {}).get("resourceAttributes") or {}
                server.requests.append(("POST", self.path, attributes))
                arn = self._authenticated()
                if arn is None:
                    return
                if self.path != "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews":
                    self._status(404, "NotFound", "the server could not find the requested resource")
                    return
                allowed = server.rule(arn, attributes)
                self._send(201, {**review, "metadata": {"creationTimestamp": None},
                                 "status": {"allowed": allowed, **({} if allowed else {"reason": ""})}})

        return Handler
