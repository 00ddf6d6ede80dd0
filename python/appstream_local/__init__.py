"""appstream-local from Python: start the emulator, point boto3 at it, drive its test
controls, and (with pytest) get a fresh server state for every test.

    from appstream_local import AppStreamLocal

    with AppStreamLocal(transition_seconds=0) as server:
        appstream = server.client()
        appstream.create_stack(Name="demo")
        server.reset()
"""

from ._controls import Clock, ControlError, Faults
from ._server import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    AppStreamLocal,
    AppStreamLocalError,
    find_binary,
)

__all__ = [
    "AppStreamLocal",
    "AppStreamLocalError",
    "Clock",
    "ControlError",
    "DEFAULT_ACCOUNT",
    "DEFAULT_REGION",
    "Faults",
    "find_binary",
]
