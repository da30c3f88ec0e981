"""The generated protobuf messages and gRPC stubs, under short names.

    from doctagger.pb import tagger_pb2, tagger_pb2_grpc, errors_pb2
"""

from ._gen.tagger.v1 import errors_pb2, tagger_pb2, tagger_pb2_grpc

__all__ = ["errors_pb2", "tagger_pb2", "tagger_pb2_grpc"]
