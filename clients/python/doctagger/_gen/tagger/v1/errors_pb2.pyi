from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

BATCH_TOO_LARGE: ErrorReason
BODY_TIMEOUT: ErrorReason
DECOMPRESSION_BOMB: ErrorReason
DESCRIPTOR: _descriptor.FileDescriptor
DOCUMENT_TOO_LARGE: ErrorReason
EMPTY_BATCH: ErrorReason
ERROR_REASON_UNSPECIFIED: ErrorReason
INVALID_MIN_SCORE: ErrorReason
INVALID_TOKEN: ErrorReason
INVALID_UTF8: ErrorReason
MALFORMED_BODY: ErrorReason
MALFORMED_LINE: ErrorReason
MALFORMED_MESSAGE: ErrorReason
METHOD_NOT_ALLOWED: ErrorReason
MISSING_DOCUMENT: ErrorReason
MISSING_TOKEN: ErrorReason
OVERLOADED: ErrorReason
QUOTA_EXCEEDED: ErrorReason
REQUEST_TOO_LARGE: ErrorReason
RESULT_TOO_LARGE: ErrorReason
UNKNOWN_ROUTE: ErrorReason
UNKNOWN_THEME: ErrorReason
UNSUPPORTED_CONTENT_ENCODING: ErrorReason

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
