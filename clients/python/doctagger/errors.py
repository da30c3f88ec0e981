"""DoctaggerError: a failed call, or a failed document of a batch or stream."""

from typing import Mapping, NamedTuple, Optional, Sequence

import grpc

from ._gen.doctagger.rpc import error_details_pb2
from ._gen.google.rpc import status_pb2

# The trailer in which gRPC servers send the whole google.rpc.Status.
STATUS_DETAILS_KEY = "grpc-status-details-bin"

_CODES = {c.value[0]: c for c in grpc.StatusCode}

# The longest wait a retry hint may ask the client for, in seconds.
MAX_RETRY_DELAY = 30.0

# The errors whose RetryInfo the client honours.
_RETRYABLE = {
    (grpc.StatusCode.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED"),
    (grpc.StatusCode.UNAVAILABLE, "OVERLOADED"),
}


class FieldViolation(NamedTuple):
    """A field of the request at fault (google.rpc.BadRequest.FieldViolation)."""

    field: str  # e.g. "documents[2].text"
    description: str


class DoctaggerError(Exception):
    """An error of the service, with the details of its google.rpc.Status.

    code is a grpc.StatusCode. reason is the google.rpc.ErrorInfo reason, the
    name of a tagger.v1.ErrorReason value ("DOCUMENT_TOO_LARGE", ...): match
    on it, not on the message. metadata is the ErrorInfo's (e.g. "limit",
    "documentId"); field_violations come from the google.rpc.BadRequest.
    reason is "" and the rest empty for errors without details (an
    authentication failure, an unreachable server).

    retry_delay is the google.rpc.RetryInfo's delay in seconds, the wait the
    server asks for before the call is tried again: set with
    RESOURCE_EXHAUSTED QUOTA_EXCEEDED (the caller is over its quota) and
    UNAVAILABLE OVERLOADED (load shed), None otherwise. The Client already
    waited and retried it (Client(max_retries=...)) before raising.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        reason: str = "",
        field_violations: Sequence[FieldViolation] = (),
        metadata: Optional[Mapping[str, str]] = None,
        domain: str = "",
        retry_delay: Optional[float] = None,
    ):
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.reason = reason
        self.field_violations = list(field_violations)
        self.metadata = dict(metadata or {})
        self.domain = domain
        self.retry_delay = retry_delay

    def __str__(self) -> str:
        s = f"{self.code.name}: {self.message}"
        return f"{s} [{self.reason}]" if self.reason else s

    def __repr__(self) -> str:
        return (
            f"DoctaggerError({self.code.name}, {self.message!r}, reason={self.reason!r}, "
            f"field_violations={self.field_violations!r}, metadata={self.metadata!r}"
            + (f", retry_delay={self.retry_delay!r})" if self.retry_delay is not None else ")")
        )

    @classmethod
    def from_status(cls, st: status_pb2.Status) -> "DoctaggerError":
        """Builds the error of a google.rpc.Status (a DocumentResult.error)."""
        code = _CODES.get(st.code, grpc.StatusCode.UNKNOWN)
        return cls._with_details(code, st.message, st.details)

    @classmethod
    def from_rpc_error(cls, err: grpc.RpcError) -> "DoctaggerError":
        """Builds the error of a failed call, from its code, message and the
        google.rpc.Status of its grpc-status-details-bin trailer."""
        code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
        message = (err.details() if hasattr(err, "details") else None) or str(err)
        details = ()
        trailers = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
        for key, value in trailers or ():
            if key == STATUS_DETAILS_KEY:
                details = status_pb2.Status.FromString(value).details
        e = cls._with_details(code, message, details)
        e.__cause__ = err
        return e

    @classmethod
    def _with_details(cls, code, message, details) -> "DoctaggerError":
        reason, domain, metadata, violations, retry_delay = "", "", {}, [], None
        for any_ in details:
            # Picked by type URL: the client's own error_details_pb2 decodes
            # the google.rpc messages under another package name.
            name = any_.type_url.rsplit("/", 1)[-1]
            if name == "google.rpc.ErrorInfo":
                info = error_details_pb2.ErrorInfo.FromString(any_.value)
                reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
            elif name == "google.rpc.BadRequest":
                br = error_details_pb2.BadRequest.FromString(any_.value)
                violations += [FieldViolation(v.field, v.description) for v in br.field_violations]
            elif name == "google.rpc.RetryInfo":
                d = error_details_pb2.RetryInfo.FromString(any_.value).retry_delay
                retry_delay = max(d.seconds + d.nanos / 1e9, 0.0)
        return cls(code, message, reason, violations, metadata, domain, retry_delay)

    def retry_hint(self) -> Optional[float]:
        """The wait, in seconds, before this call may succeed when tried
        again, capped at MAX_RETRY_DELAY: retry_delay for QUOTA_EXCEEDED
        (RESOURCE_EXHAUSTED) and OVERLOADED (UNAVAILABLE), None for any
        other error (which waiting would not fix, or not by a known time)."""
        if self.retry_delay is None or (self.code, self.reason) not in _RETRYABLE:
            return None
        return min(self.retry_delay, MAX_RETRY_DELAY)
