"""Starting, driving and stopping an appstream-local server process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sysconfig
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from ._controls import Clock, ControlError, Faults

DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"

FlagValue = Union[str, int, float, bool, Path, Sequence[str], None]


class AppStreamLocalError(RuntimeError):
    """The server could not start or stopped unexpectedly; the message carries its log."""


def find_binary() -> str:
    """The `appstream-local` executable: `$APPSTREAM_LOCAL_BINARY`, the one this package
    installed beside the interpreter, or the first on PATH."""
    explicit = os.environ.get("APPSTREAM_LOCAL_BINARY")
    if explicit:
        return explicit
    name = "appstream-local.exe" if os.name == "nt" else "appstream-local"
    installed = Path(sysconfig.get_path("scripts")) / name
    if installed.is_file():
        return str(installed)
    found = shutil.which("appstream-local")
    if found:
        return found
    raise AppStreamLocalError(
        "cannot find the appstream-local executable: install the appstream-local "
        "package in this environment, put the binary on PATH, or set APPSTREAM_LOCAL_BINARY"
    )


def command_line(flags: Mapping[str, FlagValue]) -> List[str]:
    """`transition_seconds=0` becomes `--transition-seconds 0`; True is a bare flag,
    False and None leave it out, and a list is joined with commas."""
    args: List[str] = []
    for key, value in flags.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [flag, ",".join(str(v) for v in value)]
        else:
            args += [flag, str(value)]
    return args


class AppStreamLocal:
    """An appstream-local server on a free port of 127.0.0.1, started when constructed and
    stopped by `stop()` or at the end of a `with` block.

    Every keyword is a command-line flag: `AppStreamLocal(transition_seconds=0,
    enforce_quotas=True, init="seed.json")` runs `appstream-local --port 0
    --transition-seconds 0 --enforce-quotas --init seed.json`.
    """

    def __init__(
        self,
        *,
        binary: Optional[str] = None,
        startup_timeout: float = 30.0,
        env: Optional[Mapping[str, str]] = None,
        **flags: FlagValue,
    ) -> None:
        flags.setdefault("port", 0)
        self._token = flags.get("control_token")
        self._log = tempfile.NamedTemporaryFile(
            prefix="appstream-local-", suffix=".log", delete=False
        )
        self.log_path = self._log.name
        # The server writes the address it listens on here (whole, once it listens),
        # whatever its log level or format.
        self._addr_file = Path(str(flags.setdefault("addr_file", self.log_path + ".addr")))
        self.args = [binary or find_binary()] + command_line(flags)
        process_env = dict(os.environ)
        process_env.setdefault("RUST_LOG", "info")
        process_env.update(env or {})
        self._process: Optional[subprocess.Popen[bytes]] = subprocess.Popen(
            self.args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=process_env,
        )
        self.endpoint = self._wait_until_listening(startup_timeout)
        self.faults = Faults(self._control)
        self.clock = Clock(self._control)

    # -- lifecycle ---------------------------------------------------------------------

    def _wait_until_listening(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                address = self._addr_file.read_text().strip()
            except OSError:
                address = ""
            if address and self._healthy("http://" + address):
                return "http://" + address
            if self._process is not None and self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise AppStreamLocalError(
                    f"appstream-local exited with status {code} before serving "
                    f"({' '.join(self.args)}):\n{self.log()}"
                )
            time.sleep(0.02)
        self.stop()
        raise AppStreamLocalError(
            f"appstream-local did not answer /_health within {timeout} s:\n{self.log()}"
        )

    def _healthy(self, endpoint: str) -> bool:
        try:
            with urllib.request.urlopen(endpoint + "/_health", timeout=2) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def log(self) -> str:
        """What the server has logged so far."""
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the server gracefully (SIGTERM, as `docker stop` does); kills it after
        `timeout` seconds. Stopping twice does nothing."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # A clean stop removes it; a killed server leaves it.
        self._addr_file.unlink(missing_ok=True)
        self._log.close()

    def __enter__(self) -> "AppStreamLocal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:
        # A server left running by a crashed test run must not outlive it.
        process = getattr(self, "_process", None)
        if process is not None and process.poll() is None:
            process.kill()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<AppStreamLocal {self.endpoint} {state}>"

    # -- clients -----------------------------------------------------------------------

    def client(
        self,
        region: str = DEFAULT_REGION,
        account: Optional[str] = None,
        **kwargs: Any,
    ) -> Any:
        """A boto3 AppStream client for this server, as `account` (a 12-digit id; the
        server takes a 12-digit access key as its account) in `region`. Other keywords go
        to `boto3.client` (`config=...`)."""
        try:
            import boto3
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise AppStreamLocalError(
                "client() needs boto3: pip install 'appstream-local[boto3]'"
            ) from e
        kwargs.setdefault("endpoint_url", self.endpoint)
        kwargs.setdefault("region_name", region)
        kwargs.setdefault("aws_access_key_id", account or "test")
        kwargs.setdefault("aws_secret_access_key", "test")
        return boto3.client("appstream", **kwargs)

    def environment(self, region: str = DEFAULT_REGION) -> Dict[str, str]:
        """The variables that point every AWS SDK and the AWS CLI at this server."""
        return {
            "AWS_ENDPOINT_URL_APPSTREAM": self.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "test",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }

    # -- controls ----------------------------------------------------------------------

    def _control(
        self,
        method: str,
        path: str,
        body: Optional[Any] = None,
        query: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        url = self.endpoint + path
        if query:
            url += "?" + urllib.parse.urlencode(
                {k: v for k, v in query.items() if v is not None}
            )
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            try:
                message = json.loads(text).get("error", text)
            except (ValueError, AttributeError):
                message = text
            raise ControlError(e.code, f"{method} {path}: {message}") from None

    def reset(self, account: Optional[str] = None, region: Optional[str] = None) -> None:
        """Returns the server to how it started (`POST /_reset`): resources as seeded,
        fault rules, clock and request history. With an account and a Region, returns only
        their resources to the seed."""
        if (account is None) != (region is None):
            raise ValueError("give both account and region, or neither")
        body = {"account": account, "region": region} if account else None
        self._control("POST", "/_reset", body)

    def requests(
        self,
        operation: Optional[str] = None,
        account: Optional[str] = None,
        region: Optional[str] = None,
        status: Optional[int] = None,
    ) -> List[Dict[str, Any]]:
        """The latest requests the server answered, oldest first (`GET /_requests`)."""
        query = {"operation": operation, "account": account, "region": region, "status": status}
        answer: Dict[str, Any] = self._control("GET", "/_requests", query=query)
        return list(answer["requests"])

    def clear_requests(self) -> None:
        self._control("DELETE", "/_requests")

    def state(self, account: Optional[str] = None, region: Optional[str] = None) -> Any:
        """Every account's state in every Region (`GET /_state`), or one's; sensitive
        values show as pseudonyms."""
        if (account is None) != (region is None):
            raise ValueError("give both account and region, or neither")
        return self._control("GET", "/_state", query={"account": account, "region": region})

    def health(self) -> Dict[str, Any]:
        answer: Dict[str, Any] = self._control("GET", "/_health")
        return answer
