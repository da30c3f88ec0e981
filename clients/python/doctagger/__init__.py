"""A Python client for doctagger, which tags documents by theme over gRPC.

    from doctagger import Client

    with Client("127.0.0.1:9090") as c:
        print(c.tag("Nvidia ra mắt chip trí tuệ nhân tạo mới").themes)

The generated messages and stubs are in doctagger.pb (tagger_pb2,
tagger_pb2_grpc, errors_pb2) for what the helper does not cover.
"""

from .client import Client, DocumentLike, Result, to_document
from .errors import MAX_RETRY_DELAY, DoctaggerError, FieldViolation

__all__ = ["Client", "DoctaggerError", "DocumentLike", "FieldViolation", "MAX_RETRY_DELAY", "Result", "to_document"]
