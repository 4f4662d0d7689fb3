"""A moto server on 127.0.0.1 for code that uses plain boto3 clients through AWS_ENDPOINT_URL.

Server mode (rather than moto's in-process mock) exercises the real HTTP path: endpoint
resolution from AWS_ENDPOINT_URL, request signing, pagination tokens and error parsing.
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Any, Iterator

import boto3
import botocore.loaders
import botocore.session
import pytest
from moto.server import ThreadedMotoServer

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Variables that could point boto3 at a real account or another endpoint while tests run.
UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ROLE_ARN")


class MotoServer:
    def __init__(self) -> None:
        # One werkzeug access-log line per request would bury test failures.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self._setup = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing"
        )
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region_name: str) -> Any:
        """A client for building and inspecting test data: not the session the code under test uses."""
        key = (service, region_name)
        if key not in self._clients:
            self._clients[key] = self._setup.client(service, region_name=region_name, endpoint_url=self.endpoint)
        return self._clients[key]

    def reset(self) -> None:
        """Forget every resource in every region (moto's documented reset endpoint)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        self._server.stop()


def point_boto3_at(
    server: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> boto3.session.Session:
    """Fake credentials and AWS_ENDPOINT_URL for this test; a fresh default boto3 session.

    Returns that session: `boto3.client(...)` calls in the code under test use it, so a test
    can register botocore event hooks on it. The previous default session comes back after.
    """
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path_factory.mktemp("aws-config") / "config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # The code under test launches with an AMI id moto does not check; loading moto's default
    # AMI catalogue in every region after every reset would cost about a second per test.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    core = botocore.session.get_session()
    # Parsing the service models (EC2's is megabytes of JSON) once per test run, not per test.
    core.register_component("data_loader", _SHARED_LOADER)
    session = boto3.session.Session(botocore_session=core)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    return session


_SHARED_LOADER = botocore.loaders.create_loader()


def module_server() -> Iterator[MotoServer]:
    """Body of a module-scoped fixture: one server per test module."""
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()
