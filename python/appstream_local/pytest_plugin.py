"""The pytest plugin (entry point `pytest11`): one server for the test session, and an
`appstream` fixture that gives each test a fresh state and points every AWS client at it.

    def test_create_stack(appstream):
        client = boto3.client("appstream")      # endpoint, keys and Region are set
        client.create_stack(Name="demo")
        assert appstream.requests(operation="CreateStack")
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, List

import pytest

from ._server import DEFAULT_REGION, AppStreamLocal, command_line

_OPTIONS = "appstream-local"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(_OPTIONS, "appstream-local emulator")
    group.addoption(
        "--appstream-transition-seconds",
        type=float,
        default=0.0,
        help="how long fleet, builder and image transitions last (default 0: instant)",
    )
    group.addoption(
        "--appstream-enforce-quotas",
        action="store_true",
        help="apply AWS's default quotas (LimitExceededException)",
    )
    group.addoption(
        "--appstream-init",
        default=None,
        help="seed state from this file of operations; every test starts from it",
    )
    group.addoption(
        "--appstream-region",
        default=DEFAULT_REGION,
        help="the Region the fixture gives clients (default us-east-1)",
    )
    group.addoption(
        "--appstream-flag",
        action="append",
        default=[],
        metavar="FLAG[=VALUE]",
        help="any other server flag, e.g. --appstream-flag=verify-signatures (repeatable)",
    )
    group.addoption(
        "--appstream-binary",
        default=None,
        help="the appstream-local executable (default: the one this package installed)",
    )


def _flags(config: pytest.Config) -> Dict[str, Any]:
    flags: Dict[str, Any] = {
        "transition_seconds": config.getoption("appstream_transition_seconds"),
        "enforce_quotas": config.getoption("appstream_enforce_quotas"),
        "init": config.getoption("appstream_init"),
    }
    for given in config.getoption("appstream_flag"):
        name, _, value = given.lstrip("-").partition("=")
        flags[name.replace("-", "_")] = value if value else True
    return flags


@pytest.fixture(scope="session")
def appstream_server(request: pytest.FixtureRequest) -> Iterator[AppStreamLocal]:
    """The session's server, started on a free port before the first test that needs it
    and stopped after the last."""
    config = request.config
    server = AppStreamLocal(binary=config.getoption("appstream_binary"), **_flags(config))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def appstream(
    appstream_server: AppStreamLocal,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[AppStreamLocal]:
    """The session's server, reset before the test (resources as seeded, only the --faults
    file's rules, the clock at real time, no request history), with the AWS variables
    pointing every client at it for the test's duration (restored after)."""
    appstream_server.reset()
    region = request.config.getoption("appstream_region")
    for name, value in appstream_server.environment(region).items():
        monkeypatch.setenv(name, value)
    # Profiles and files on the developer's machine must not reach the test.
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield appstream_server


def pytest_report_header(config: pytest.Config) -> List[str]:
    return ["appstream-local: " + " ".join(command_line(_flags(config)))]
