"""The fault rules and the clock of a running server, as objects."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

Send = Callable[..., Any]


class ControlError(RuntimeError):
    """A control endpoint refused a request (a malformed rule, a clock out of range)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Faults:
    """Fault rules (`/_faults`): errors, latency or failed transitions for matching calls."""

    def __init__(self, send: Send) -> None:
        self._send = send

    def add(
        self,
        operation: str = "*",
        *,
        error: Optional[str] = None,
        message: Optional[str] = None,
        status: Optional[int] = None,
        probability: Optional[float] = None,
        count: Optional[int] = None,
        latency_ms: Optional[int] = None,
        transition_failure: Optional[Dict[str, str]] = None,
        account: Optional[str] = None,
        region: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Adds one rule and returns it with its id. `error` is the code to answer with
        (`"ThrottlingException"`), `message` and `status` optional."""
        rule: Dict[str, Any] = {"operation": operation}
        if error is not None:
            rule["error"] = {"code": error}
            if message is not None:
                rule["error"]["message"] = message
            if status is not None:
                rule["error"]["status"] = status
        for key, value in (
            ("probability", probability),
            ("count", count),
            ("latency_ms", latency_ms),
            ("transition_failure", transition_failure),
            ("account", account),
            ("region", region),
        ):
            if value is not None:
                rule[key] = value
        return self.add_rules([rule])[0]

    def add_rules(self, rules: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Adds rules as `POST /_faults` takes them; all or none."""
        answer: Dict[str, Any] = self._send("POST", "/_faults", {"rules": rules})
        return list(answer["rules"])

    def list(self) -> List[Dict[str, Any]]:
        """The rules in force, each with how often it fired."""
        answer: Dict[str, Any] = self._send("GET", "/_faults")
        return list(answer["rules"])

    def remove(self, rule_id: str) -> None:
        self._send("DELETE", f"/_faults/{rule_id}")

    def clear(self) -> None:
        self._send("DELETE", "/_faults")


class Clock:
    """The server's movable clock (`/_clock`)."""

    def __init__(self, send: Send) -> None:
        self._send = send

    def advance(self, seconds: float) -> float:
        """Moves time forward; returns the new offset in seconds."""
        return self._answer(self._send("POST", "/_clock", {"advance_seconds": seconds}))

    def set(self, offset_seconds: float) -> float:
        """Sets how far ahead of real time the server runs."""
        return self._answer(self._send("POST", "/_clock", {"offset_seconds": offset_seconds}))

    def reset(self) -> None:
        self._send("DELETE", "/_clock")

    @property
    def offset(self) -> float:
        return self._answer(self._send("GET", "/_clock"))

    @property
    def now(self) -> float:
        """The server's time, in epoch seconds."""
        return float(self._send("GET", "/_clock")["now"])

    @staticmethod
    def _answer(answer: Dict[str, Any]) -> float:
        return float(answer["offset_seconds"])
