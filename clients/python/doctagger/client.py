"""Client: the doctagger gRPC service (tagger.v1.TaggerService) from Python."""

import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import grpc

from ._gen.tagger.v1 import tagger_pb2, tagger_pb2_grpc
from .errors import DoctaggerError

# A document: its text alone, an (id, text) or (id, text, language_code)
# tuple, a dict of Document's fields ({"id", "text", "language_code"}), or a
# tagger_pb2.Document.
DocumentLike = Union[str, Tuple[str, str], Tuple[str, str, str], Mapping[str, str], tagger_pb2.Document]


@dataclass(frozen=True)
class Result:
    """The result of one document (tagger.v1.DocumentResult).

    tags and untagged are tagger_pb2.Tag messages (theme, label, score,
    evidence, ...). A document that failed in a batch or stream has error
    set (a DoctaggerError, not raised) and no tags. sequence is, in a
    stream, the 1-based position of the document in the input.

    Evidence offsets: Python strings index by code point, so
    text[ev.rune_start:ev.rune_end] == ev.text (ev.start/ev.end are UTF-8
    byte offsets, ev.utf16_start/utf16_end JavaScript's).
    """

    document_id: str
    tags: Sequence[tagger_pb2.Tag]
    untagged: Sequence[tagger_pb2.Tag]
    ruleset_version: str
    words: int
    sequence: int
    error: Optional[DoctaggerError]
    raw: tagger_pb2.DocumentResult = field(repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def themes(self) -> List[str]:
        """The ids of the themes tagged, highest score first."""
        return [t.theme for t in self.tags]

    def raise_for_error(self) -> "Result":
        """Raises the document's error if it failed; returns the result."""
        if self.error is not None:
            raise self.error
        return self

    @classmethod
    def from_proto(cls, r: tagger_pb2.DocumentResult) -> "Result":
        error = DoctaggerError.from_status(r.error) if r.HasField("error") else None
        return cls(r.document_id, list(r.tags), list(r.untagged), r.ruleset_version,
                   r.words, r.sequence, error, r)


def to_document(doc: DocumentLike) -> tagger_pb2.Document:
    """Converts a DocumentLike to a tagger_pb2.Document."""
    if isinstance(doc, tagger_pb2.Document):
        return doc
    if isinstance(doc, str):
        return tagger_pb2.Document(text=doc)
    if isinstance(doc, tuple) and len(doc) in (2, 3):
        return tagger_pb2.Document(id=doc[0], text=doc[1], language_code=doc[2] if len(doc) == 3 else "")
    if isinstance(doc, Mapping):
        return tagger_pb2.Document(**doc)  # an unknown key raises ValueError
    raise TypeError(f"a document is a str, an (id, text) tuple, a dict or a Document, not {type(doc).__name__}")


class Client:
    """A connection to doctagger's gRPC API.

        with Client("127.0.0.1:9090", token="...") as c:
            r = c.tag("Nvidia ra mắt chip trí tuệ nhân tạo", id="a1")
            print(r.themes)

    target is "host:port". token, when the server requires one, is sent as
    "authorization: Bearer <token>". tls: False for plaintext (the token then
    travels in clear: loopback or a trusted network only), True for TLS with
    the system's root certificates, or a grpc.ChannelCredentials (e.g.
    grpc.ssl_channel_credentials(root_certificates=..., private_key=...,
    certificate_chain=...) for a private CA or mutual TLS). timeout, in
    seconds, bounds each unary call (None: no deadline); streams have none
    unless stream() is given one.

    Failed calls raise DoctaggerError. The client is thread-safe; close it
    (or use it as a context manager) to close its channel.
    """

    def __init__(self, target: str, token: Optional[str] = None,
                 tls: Union[bool, grpc.ChannelCredentials] = False,
                 timeout: Optional[float] = 30.0,
                 options: Sequence[Tuple[str, Any]] = ()):
        # The server bounds its answers (--max-message-bytes, 64 MiB by
        # default), over gRPC Python's 4 MiB default for what it receives.
        opts = [("grpc.max_receive_message_length", -1), *options]
        if tls is False or tls is None:
            self._channel = grpc.insecure_channel(target, options=opts)
        else:
            creds = grpc.ssl_channel_credentials() if tls is True else tls
            self._channel = grpc.secure_channel(target, creds, options=opts)
        self._stub = tagger_pb2_grpc.TaggerServiceStub(self._channel)
        self._metadata = (("authorization", "Bearer " + token),) if token else ()
        self.timeout = timeout

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request, timeout):
        try:
            return method(request, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as err:
            raise DoctaggerError.from_rpc_error(err) from None

    def tag(self, text: str, *, id: str = "", language_code: str = "",
            themes: Sequence[str] = (), omit_evidence: bool = False,
            min_score: float = 0.0, include_untagged: bool = False) -> Result:
        """Tags one text. Any error, of the call or the document, raises."""
        req = tagger_pb2.TagDocumentRequest(
            document=tagger_pb2.Document(id=id, text=text, language_code=language_code),
            options=_options(themes, omit_evidence, min_score, include_untagged))
        return Result.from_proto(self._call(self._stub.TagDocument, req, self.timeout).result)

    def tag_batch(self, docs: Iterable[DocumentLike], *, themes: Sequence[str] = (),
                  omit_evidence: bool = False, min_score: float = 0.0,
                  include_untagged: bool = False) -> List[Result]:
        """Tags documents in one call and returns their results in order.

        A bad document fails alone: its Result has error set. The call
        raises for errors of the whole batch: an unknown theme, an empty
        batch, more documents than the server's --max-batch-documents (256
        by default; use stream() for more).
        """
        req = tagger_pb2.BatchTagDocumentsRequest(
            documents=[to_document(d) for d in docs],
            options=_options(themes, omit_evidence, min_score, include_untagged))
        resp = self._call(self._stub.BatchTagDocuments, req, self.timeout)
        return [Result.from_proto(r) for r in resp.results]

    def stream(self, docs: Iterable[DocumentLike], *, themes: Sequence[str] = (),
               omit_evidence: bool = False, min_score: float = 0.0,
               include_untagged: bool = False,
               timeout: Optional[float] = None) -> Iterator[Result]:
        """Tags documents over one stream, yielding each result as it comes.

        Results come in no particular order: match them to documents by
        Result.document_id, or by Result.sequence (1 for the first document
        of docs). docs is read lazily, as the server takes documents, so it
        may be a generator of any length. A bad document fails alone (its
        Result has error set). The stream's own failure raises
        DoctaggerError after the results received before it; an exception
        raised while reading docs is raised again here. Closing the
        generator early (break) cancels the stream.
        """
        opts = _options(themes, omit_evidence, min_score, include_untagged)
        failed: List[BaseException] = []

        def requests():
            try:
                first = True
                for d in docs:
                    # Options given once apply to the later documents too.
                    yield tagger_pb2.StreamTagDocumentsRequest(
                        document=to_document(d), options=opts if first else None)
                    first = False
            except Exception as e:  # runs on gRPC's thread: hand it over
                failed.append(e)
                raise

        call = self._stub.StreamTagDocuments(requests(), timeout=timeout, metadata=self._metadata)
        try:
            for resp in call:
                yield Result.from_proto(resp.result)
        except grpc.RpcError as err:
            if failed:
                raise failed[0] from None
            raise DoctaggerError.from_rpc_error(err) from None
        finally:
            call.cancel()

    def themes(self) -> List[tagger_pb2.Theme]:
        """The themes of the server's ruleset (id, label_vi, label_en, ...)."""
        return list(self._call(self._stub.ListThemes, tagger_pb2.ListThemesRequest(), self.timeout).themes)

    def ruleset(self) -> tagger_pb2.Ruleset:
        """The server's current ruleset (name, version, load_time, counts)."""
        return self._call(self._stub.GetRuleset, tagger_pb2.GetRulesetRequest(), self.timeout).ruleset


def _options(themes, omit_evidence, min_score, include_untagged) -> tagger_pb2.TagOptions:
    if isinstance(themes, str):
        themes = [themes]
    return tagger_pb2.TagOptions(themes=list(themes), omit_evidence=omit_evidence,
                                 min_score=min_score, include_untagged=include_untagged)
