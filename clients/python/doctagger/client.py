"""Client: the doctagger gRPC service (tagger.v1.TaggerService) from Python."""

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import grpc

from ._gen.tagger.v1 import tagger_pb2, tagger_pb2_grpc
from .errors import DoctaggerError

# A document: its text alone, an (id, text) or (id, text, language_code)
# tuple, a dict of Document's fields ({"id", "text", "title",
# "language_code"}), or a tagger_pb2.Document.
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
    byte offsets, ev.utf16_start/utf16_end JavaScript's); for evidence with
    ev.in_title set, they are offsets into the document's title.
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

    A call refused for a caller over its quota (RESOURCE_EXHAUSTED
    QUOTA_EXCEEDED) or by an overloaded server (UNAVAILABLE OVERLOADED) with
    a retry hint (google.rpc.RetryInfo) is tried again after the delay the
    server asks for (at most 30 s, doctagger.MAX_RETRY_DELAY), up to max_retries
    times, while the call's timeout leaves time for it; stream() resends
    the documents a stream ended so left unanswered. max_retries=0 turns
    this off: the DoctaggerError is raised at once, its retry_delay set.
    on_retry(error, delay), when given, is called before each such wait
    (say, to log it).

    Failed calls raise DoctaggerError. The client is thread-safe; close it
    (or use it as a context manager) to close its channel.
    """

    def __init__(self, target: str, token: Optional[str] = None,
                 tls: Union[bool, grpc.ChannelCredentials] = False,
                 timeout: Optional[float] = 30.0,
                 options: Sequence[Tuple[str, Any]] = (),
                 max_retries: int = 5,
                 on_retry: Optional[Callable[[DoctaggerError, float], None]] = None):
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
        self.max_retries = max_retries
        self.on_retry = on_retry

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request, timeout):
        # timeout bounds the whole call, its retries and their waits included.
        deadline = None if timeout is None else time.monotonic() + timeout
        retries = 0
        while True:
            try:
                return method(request, timeout=_left(deadline), metadata=self._metadata)
            except grpc.RpcError as err:
                e = DoctaggerError.from_rpc_error(err)
            delay = self._retry_delay(e, retries, deadline)
            if delay is None:
                raise e from None
            retries += 1
            self._wait(e, delay)

    def _wait(self, e: DoctaggerError, delay: float) -> None:
        if self.on_retry is not None:
            self.on_retry(e, delay)
        time.sleep(delay)

    def _retry_delay(self, e: DoctaggerError, retries: int, deadline: Optional[float]) -> Optional[float]:
        """The wait before trying e's call again; None to raise e."""
        delay = e.retry_hint()
        if delay is None or retries >= self.max_retries:
            return None
        if deadline is not None and time.monotonic() + delay >= deadline:
            return None  # the answer would come too late anyway
        return delay

    def tag(self, text: str, *, id: str = "", title: str = "", language_code: str = "",
            themes: Sequence[str] = (), omit_evidence: bool = False,
            min_score: float = 0.0, include_untagged: bool = False) -> Result:
        """Tags one text, with its optional title (headline: a match in it
        weighs the ruleset's title_weight, and its evidence has in_title
        set). Any error, of the call or the document, raises."""
        req = tagger_pb2.TagDocumentRequest(
            document=tagger_pb2.Document(id=id, text=text, title=title, language_code=language_code),
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

        A stream that ends with a retry hint (shed for overload, the results
        of the documents it took all sent; or refused for the caller's
        quota of open streams) is reopened after the delay, and the
        documents that got no result are sent again, first: each document
        yields one result, whatever the number of streams. Up to
        max_retries streams in a row may end so without answering a
        document; timeout bounds the whole, retries included.
        """
        opts = _options(themes, omit_evidence, min_score, include_untagged)
        feed = _Feed(docs)
        deadline = None if timeout is None else time.monotonic() + timeout
        retries = 0
        while True:
            run = _Run(feed, opts)
            call = self._stub.StreamTagDocuments(run.requests(), timeout=_left(deadline), metadata=self._metadata)
            try:
                for resp in call:
                    yield run.answer(resp.result)
                return
            except grpc.RpcError as err:
                if feed.error is not None:
                    raise feed.error from None
                e = DoctaggerError.from_rpc_error(err)
            finally:
                call.cancel()
                run.stop()  # what it took and did not answer goes to the next stream
            if run.answered:
                retries = 0
            delay = self._retry_delay(e, retries, deadline)
            if delay is None:
                raise e from None
            with feed.lock:
                if feed.done and not feed.carry:
                    return  # every document was answered
            retries += 1
            self._wait(e, delay)

    def themes(self) -> List[tagger_pb2.Theme]:
        """The themes of the server's ruleset (id, label_vi, label_en, ...)."""
        return list(self._call(self._stub.ListThemes, tagger_pb2.ListThemesRequest(), self.timeout).themes)

    def ruleset(self) -> tagger_pb2.Ruleset:
        """The server's current ruleset (name, version, load_time, counts)."""
        return self._call(self._stub.GetRuleset, tagger_pb2.GetRulesetRequest(), self.timeout).ruleset


def _left(deadline: Optional[float]) -> Optional[float]:
    """The time left before deadline (None: no deadline), in seconds."""
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


class _Feed:
    """The documents of one stream() call, read lazily by its streams one
    after the other (each stream's requests run on a gRPC thread).

    carry holds documents read but not answered, which the next stream
    sends first: (n, Document), n the document's place in docs from 1.
    """

    def __init__(self, docs: Iterable[DocumentLike]):
        self._docs = docs
        self._it: Optional[Iterator[DocumentLike]] = None
        self.lock = threading.Lock()       # carry, and each _Run's sent and stopped
        self.read_lock = threading.Lock()  # one reader of docs at a time
        self.carry: List[Tuple[int, tagger_pb2.Document]] = []
        self.read = 0
        self.done = False  # docs is exhausted (or failed)
        self.error: Optional[BaseException] = None

    def read_one(self) -> Optional[Tuple[int, tagger_pb2.Document]]:
        """The next document of docs, None at its end. Under read_lock."""
        if self.done:
            return None
        try:
            if self._it is None:
                self._it = iter(self._docs)
            doc = to_document(next(self._it))
        except StopIteration:
            self.done = True
            return None
        except Exception as e:  # raised again by stream(), on its thread
            self.error, self.done = e, True
            raise
        self.read += 1
        return self.read, doc

    def give_back(self, docs: Iterable[Tuple[int, tagger_pb2.Document]]) -> None:
        """Puts documents back for the next stream. Under lock."""
        self.carry = sorted([*self.carry, *docs], key=lambda d: d[0])


class _Run:
    """One stream of a stream() call: the documents it sent, in order (the
    server numbers them from 1: Result.sequence), and those answered."""

    def __init__(self, feed: _Feed, opts: tagger_pb2.TagOptions):
        self.feed, self.opts = feed, opts
        self.sent: List[Tuple[int, tagger_pb2.Document]] = []
        self.answered = 0
        self._done: set = set()
        self.stopped = False

    def _next(self) -> Optional[Tuple[int, tagger_pb2.Document]]:
        feed = self.feed
        with feed.lock:
            if self.stopped:
                return None
            if feed.carry:
                d = feed.carry.pop(0)
                self.sent.append(d)
                return d
        with feed.read_lock:
            d = feed.read_one()
            with feed.lock:
                if d is None and not self.stopped and feed.carry:
                    d = feed.carry.pop(0)  # given back by a stream that ended meanwhile
                elif d is not None and self.stopped:
                    feed.give_back([d])  # read as this stream ended: for the next one
                    return None
                if d is not None:
                    self.sent.append(d)
                return d

    def requests(self) -> Iterator[tagger_pb2.StreamTagDocumentsRequest]:
        first = True
        while True:
            d = self._next()
            if d is None:
                return
            # Options given once apply to the later documents too.
            yield tagger_pb2.StreamTagDocumentsRequest(document=d[1], options=self.opts if first else None)
            first = False

    def answer(self, r: tagger_pb2.DocumentResult) -> Result:
        """The Result of r, its sequence that of the document in docs."""
        with self.feed.lock:
            k = r.sequence
            if 1 <= k <= len(self.sent) and k not in self._done:
                self._done.add(k)
                self.answered += 1
                n = self.sent[k - 1][0]
                if n != k:
                    r = tagger_pb2.DocumentResult.FromString(r.SerializeToString())
                    r.sequence = n
        return Result.from_proto(r)

    def stop(self) -> None:
        """Ends this stream's reading; gives the documents it sent and got
        no result for back to the feed."""
        with self.feed.lock:
            if self.stopped:
                return
            self.stopped = True
            self.feed.give_back(d for k, d in enumerate(self.sent, 1) if k not in self._done)


def _options(themes, omit_evidence, min_score, include_untagged) -> tagger_pb2.TagOptions:
    if isinstance(themes, str):
        themes = [themes]
    return tagger_pb2.TagOptions(themes=list(themes), omit_evidence=omit_evidence,
                                 min_score=min_score, include_untagged=include_untagged)
