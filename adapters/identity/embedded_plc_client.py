"""`PlcClient` over the embedded `PlcDirectory`, in-process: no HTTP, same errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from application.plc_directory.app import PlcDirectory
from application.plc_directory.errors import DidNotAvailable, DidNotRegistered
from application.ports.plc_client import (
    PlcDidDeactivated,
    PlcDidNotFound,
    PlcOperationRejected,
)
from domain.plc.audit_log import LogEntry
from domain.plc.document import PlcData
from domain.plc.errors import PlcError
from domain.plc.operation import Operation

T = TypeVar("T")


class EmbeddedPlcClient:
    """Calls the directory directly; translates its errors into the port's."""

    def __init__(self, directory: PlcDirectory) -> None:
        self.directory = directory

    def submit(self, did: str, op: Operation) -> None:
        try:
            self.directory.submit(did, op.to_value())
        except PlcError as exc:
            raise PlcOperationRejected(str(exc)) from exc

    def get_document(self, did: str) -> dict[str, Any]:
        return _read(lambda: self.directory.document(did))

    def get_data(self, did: str) -> PlcData:
        return _read(lambda: self.directory.data(did))

    def get_last_op(self, did: str) -> Operation:
        return _read(lambda: self.directory.last_op(did))

    def get_audit_log(self, did: str) -> tuple[LogEntry, ...]:
        return _read(lambda: self.directory.audit_log(did))


def _read(read: Callable[[], T]) -> T:
    try:
        return read()
    except DidNotAvailable as exc:
        raise PlcDidDeactivated(str(exc)) from exc
    except DidNotRegistered as exc:
        raise PlcDidNotFound(str(exc)) from exc
