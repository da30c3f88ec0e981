"""The client honours the server's retry hints (google.rpc.RetryInfo), against
the real taggerd: a caller over its quota (RESOURCE_EXHAUSTED QUOTA_EXCEEDED)
and an overloaded server (UNAVAILABLE OVERLOADED).

Run: /usr/bin/python3 -m unittest discover -s clients/python/tests -v
"""

import socket
import struct
import sys
import threading
import time
import unittest
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from doctagger import Client, DoctaggerError  # noqa: E402
from doctagger.pb import tagger_pb2, tagger_pb2_grpc  # noqa: E402
from taggerd import Taggerd  # noqa: E402

EHEALTH = "Bệnh viện tỉnh bắt đầu dùng bệnh án điện tử thay cho hồ sơ giấy từ tháng này."
# About 2.9 KB, tagged ai and ehealth with much evidence (a result of about 8 KB).
BIG = "Bệnh viện dùng bệnh án điện tử và trí tuệ nhân tạo. " * 40


class QuotaTest(unittest.TestCase):
    """--quota-documents-per-second 2 --quota-burst 2: two documents at once,
    then one every half second; each test gets a server (a full bucket)."""

    def setUp(self):
        self.server = Taggerd("--quota-documents-per-second=2", "--quota-burst=2").start()
        self.addCleanup(self.server.stop)

    def client(self, **kw) -> Client:
        c = Client(self.server.target, timeout=10, **kw)
        self.addCleanup(c.close)
        return c

    def test_unary_calls_wait_the_hint(self):
        waits = []
        c = self.client(on_retry=lambda e, d: waits.append((e.reason, d)))
        start = time.monotonic()
        for i in range(6):  # tag and tag_batch in turn, a document each
            if i % 2 == 0:
                self.assertEqual(c.tag(EHEALTH, id=f"d{i}").themes, ["ehealth"])
            else:
                self.assertEqual([r.document_id for r in c.tag_batch([(f"d{i}", EHEALTH)])], [f"d{i}"])
        took = time.monotonic() - start
        # Two at once, then four at 2 a second: about 2 s, the quota's pace.
        self.assertGreater(took, 1.6, waits)
        self.assertLess(took, 5.0, waits)
        self.assertTrue(waits, "no call was refused")
        for reason, delay in waits:
            self.assertEqual(reason, "QUOTA_EXCEEDED")
            self.assertGreater(delay, 0)
            self.assertLessEqual(delay, 0.6)
        self.assertLessEqual(len(waits), 8, waits)  # waited as told, not polled

    def test_without_retries_the_third_call_raises(self):
        c = self.client(max_retries=0)
        c.tag(EHEALTH)
        c.tag_batch([EHEALTH])
        with self.assertRaises(DoctaggerError) as cm:
            c.tag(EHEALTH)
        e = cm.exception
        self.assertEqual(e.code, grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertEqual(e.reason, "QUOTA_EXCEEDED")
        self.assertEqual(e.metadata["caller"], "anonymous")
        self.assertIsNotNone(e.retry_delay)
        self.assertGreater(e.retry_delay, 0)
        self.assertLessEqual(e.retry_delay, 0.6)
        self.assertEqual(e.retry_hint(), e.retry_delay)

    def test_deadline_bounds_the_retries(self):
        c = Client(self.server.target, timeout=0.3)  # shorter than the 0.5 s hint
        self.addCleanup(c.close)
        c.tag(EHEALTH)
        c.tag(EHEALTH)
        start = time.monotonic()
        with self.assertRaises(DoctaggerError) as cm:
            c.tag(EHEALTH)
        self.assertEqual(cm.exception.reason, "QUOTA_EXCEEDED")
        self.assertLess(time.monotonic() - start, 0.3)


class StreamQuotaTest(unittest.TestCase):
    """--quota-streams 1: a second stream is refused (QUOTA_EXCEEDED, retry
    after a second) until the first ends; the client opens it again then
    and sends the documents the refused one took."""

    def setUp(self):
        self.server = Taggerd("--quota-streams=1").start()
        self.addCleanup(self.server.stop)

    def hold_stream(self) -> threading.Event:
        """Opens a stream holding the caller's only one, open until the
        event returned is set."""
        release = threading.Event()
        self.addCleanup(release.set)

        def hold():
            yield tagger_pb2.StreamTagDocumentsRequest(document=tagger_pb2.Document(id="h", text=EHEALTH))
            release.wait(10)

        channel = grpc.insecure_channel(self.server.target)
        self.addCleanup(channel.close)
        holder = tagger_pb2_grpc.TaggerServiceStub(channel).StreamTagDocuments(hold(), timeout=10)
        self.addCleanup(holder.cancel)
        self.assertEqual(next(holder).result.document_id, "h")  # open and counted
        return release

    def test_refused_stream_is_reopened(self):
        release = self.hold_stream()
        waits = []

        def on_retry(e, delay):
            waits.append((e.code, e.reason, delay))
            release.set()  # the first stream ends during the wait

        with Client(self.server.target, on_retry=on_retry) as c:
            docs = [(f"s{i}", EHEALTH) for i in range(5)]
            results = list(c.stream(docs, timeout=8))
        self.assertEqual(waits, [(grpc.StatusCode.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED", 1.0)])
        self.assertEqual(sorted(r.document_id for r in results), [f"s{i}" for i in range(5)])
        for r in results:
            self.assertTrue(r.ok, r.error)
            self.assertEqual(r.sequence, int(r.document_id[1:]) + 1)
            self.assertEqual(r.themes, ["ehealth"])

    def test_refused_stream_without_retries_raises(self):
        self.hold_stream()
        with Client(self.server.target, max_retries=0) as c:
            with self.assertRaises(DoctaggerError) as cm:
                list(c.stream([EHEALTH], timeout=5))
        self.assertEqual(cm.exception.reason, "QUOTA_EXCEEDED")
        self.assertEqual(cm.exception.retry_delay, 1.0)


def _frame(typ: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([typ, flags]) + struct.pack(">I", stream_id) + payload


def greedy_connection(target: str, docs: int = 20) -> socket.socket:
    """A raw HTTP/2 connection with one StreamTagDocuments stream that sends
    docs documents of BIG and lets the server send nothing back (its
    windows are 0): the server's document budget fills with what it holds
    for it (as in server/overload_test.go). Close the socket to end it."""
    def literal(name: str, value: str) -> bytes:  # HPACK, not indexed; lengths < 127
        n, v = name.encode(), value.encode()
        return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v

    headers = b"".join(literal(n, v) for n, v in [
        (":method", "POST"), (":scheme", "http"), (":path", "/tagger.v1.TaggerService/StreamTagDocuments"),
        (":authority", target), ("content-type", "application/grpc"), ("te", "trailers")])
    msg = tagger_pb2.StreamTagDocumentsRequest(document=tagger_pb2.Document(id="g", text=BIG)).SerializeToString()
    data = _frame(0, 0, 1, b"\x00" + struct.pack(">I", len(msg)) + msg)
    host, port = target.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                 + _frame(4, 0, 0, struct.pack(">HI", 4, 0))  # SETTINGS_INITIAL_WINDOW_SIZE 0
                 + _frame(4, 1, 0, b"")                       # ack of the server's
                 + _frame(1, 4, 1, headers) + data * docs)
    return sock


class OverloadTest(unittest.TestCase):
    """A small document budget (--max-inflight-bytes) that greedy
    connections fill: calls are shed with UNAVAILABLE OVERLOADED and a retry
    hint of a second; once the greedy connections go, the retries pass."""

    def setUp(self):
        self.server = Taggerd("--max-inflight-bytes=16384", "--stream-max-in-flight=8").start()
        self.addCleanup(self.server.stop)
        self.greedy = []
        self.addCleanup(self.release)

    def overload(self):
        """Opens greedy connections until a call is shed (at most 5 s)."""
        with Client(self.server.target, timeout=5, max_retries=0) as probe:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                self.greedy.append(greedy_connection(self.server.target))
                try:
                    probe.tag(BIG)
                except DoctaggerError as e:
                    if e.reason == "OVERLOADED":
                        return
                    raise
        self.fail("the server was not overloaded")

    def release(self):
        for s in self.greedy:
            s.close()
        self.greedy.clear()

    def test_unary_call_is_retried_after_the_overload(self):
        self.overload()
        waits = []

        def on_retry(e, delay):
            waits.append((e.code, e.reason, delay))
            self.release()

        with Client(self.server.target, timeout=8, on_retry=on_retry) as c:
            r = c.tag(BIG, id="late")
        self.assertEqual(r.document_id, "late")
        self.assertEqual(sorted(r.themes), ["ai", "ehealth"])  # tags come highest score first
        self.assertEqual(waits[0], (grpc.StatusCode.UNAVAILABLE, "OVERLOADED", 1.0))

    def test_shed_stream_resends_the_unanswered_documents(self):
        # Documents 0-2 are answered; then the budget fills, document 3 is
        # shed and the stream ends "documents 1..3"; the client waits the
        # hint (the greedy connections go meanwhile) and sends 3-5 again.
        events, results = [], []

        def docs():
            for i in range(6):
                if i == 3:
                    deadline = time.monotonic() + 5
                    while len(results) < 3 and time.monotonic() < deadline:
                        time.sleep(0.01)  # the first three answered
                    self.overload()
                events.append(f"send {i}")
                yield (f"d{i}", BIG)

        def on_retry(e, delay):
            events.append(f"retry {e.reason} {delay}")
            self.assertRegex(e.message, r"documents 1\.\.[0-9]")
            self.release()

        with Client(self.server.target, on_retry=on_retry) as c:
            for r in c.stream(docs(), timeout=9):
                results.append(r)
                events.append(f"result {r.document_id}")
        ids = [r.document_id for r in results]
        self.assertEqual(sorted(ids), [f"d{i}" for i in range(6)], events)  # each exactly once
        for r in results:
            self.assertTrue(r.ok, r.error)
            self.assertEqual(r.sequence, int(r.document_id[1:]) + 1)
            self.assertEqual(sorted(r.themes), ["ai", "ehealth"])  # tags come highest score first
        retries = [e for e in events if e.startswith("retry")]
        self.assertEqual(retries, ["retry OVERLOADED 1.0"], events)
        # The first results came before the stream was shed.
        before = events[:events.index(retries[0])]
        self.assertIn("result d0", before, events)


if __name__ == "__main__":
    unittest.main()
