"""Tests of the Python client against the real taggerd (see taggerd.py).

Run: /usr/bin/python3 -m unittest discover -s clients/python/tests -v
(DOCTAGGER_TAGGERD=/path/to/taggerd to skip building it).
"""

import itertools
import sys
import time
import unittest
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from doctagger import Client, DoctaggerError, FieldViolation  # noqa: E402
from doctagger.pb import tagger_pb2  # noqa: E402
from taggerd import Taggerd  # noqa: E402

# Sentences written for these tests.
AI = "Một công ty khởi nghiệp ở Đà Nẵng giới thiệu mô hình ngôn ngữ lớn cho tiếng Việt, dùng trí tuệ nhân tạo để tóm tắt văn bản."
CHIPS = "Hãng sản xuất chip của Đài Loan mở rộng nhà máy để làm vi mạch cho các mô hình trí tuệ nhân tạo."
DRONES = "Nông dân ở An Giang thuê máy bay không người lái để phun thuốc cho ruộng lúa."
EHEALTH = "Bệnh viện tỉnh bắt đầu dùng bệnh án điện tử thay cho hồ sơ giấy từ tháng này."
# Tags semiconductors; under their threshold, ai has weak terms no strong
# term supports (DROP_REASON_UNSUPPORTED) and drones a match its exclusion
# nhac-drone cancels (DROP_REASON_EXCLUDED). The emoji makes byte, rune and
# UTF-16 offsets all differ.
DROPPED = "🎧 Intel ra mắt chip mới, có robot và thuật toán. Tối nay nghe nhạc drone."
NOTHING = "Chiều nay trời mưa nhẹ, người đi bộ ven hồ mang theo ô."
# Tags nothing; "AI" on a nutrition label, with no word of computing near it,
# is dropped for its setting (DROP_REASON_NEEDS_UNMET).
NEEDS_UNMET = "Bảng dinh dưỡng ghi AI của chất xơ là 25 gam mỗi ngày."
# Emoji outside the BMP before the match: 4 UTF-8 bytes, 1 code point and
# 2 UTF-16 units each, so the three kinds of offsets all differ.
EMOJI = "🤖📈 Trường đại học mở ngành trí tuệ nhân tạo 🎓 cho sinh viên năm nhất."

MAX_DOC_BYTES = 2048
TOO_BIG = "Câu này được lặp lại để vượt giới hạn kích thước. " * 60  # > 2048 bytes
THEMES = {"ai", "semiconductors", "ehealth", "drones", "green_transition"}


def check_evidence(test, text, result):
    """Every evidence of result is where its offsets say, in all three units."""
    n = 0
    raw = text.encode("utf-8")
    utf16 = text.encode("utf-16-le")
    for tag in result.tags:
        for ev in tag.evidence:
            n += 1
            test.assertEqual(text[ev.rune_start:ev.rune_end], ev.text)
            test.assertEqual(raw[ev.start:ev.end].decode("utf-8"), ev.text)
            test.assertEqual(utf16[2 * ev.utf16_start:2 * ev.utf16_end].decode("utf-16-le"), ev.text)
    test.assertGreater(n, 0, "no evidence to check")


class OpenServerTest(unittest.TestCase):
    """A server without authentication, with a small document limit."""

    @classmethod
    def setUpClass(cls):
        cls.server = Taggerd(f"--max-document-bytes={MAX_DOC_BYTES}").start()
        cls.client = Client(cls.server.target, timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.server.stop()

    def test_tag(self):
        r = self.client.tag(CHIPS, id="chips-1")
        self.assertTrue(r.ok)
        self.assertEqual(r.document_id, "chips-1")
        self.assertIn("semiconductors", r.themes)
        self.assertIn("ai", r.themes)
        self.assertTrue(r.ruleset_version)
        self.assertGreater(r.words, 10)
        check_evidence(self, CHIPS, r)
        self.assertEqual(self.client.tag(NOTHING).themes, [])

    def test_evidence_offsets_after_emoji(self):
        r = self.client.tag(EMOJI, id="emoji")
        self.assertEqual(r.themes, ["ai"])
        ev = r.tags[0].evidence[0]
        self.assertEqual(ev.text, "trí tuệ nhân tạo")
        # Python indexes by code point: rune offsets are the ones to use.
        self.assertEqual(EMOJI[ev.rune_start:ev.rune_end], ev.text)
        self.assertNotEqual(EMOJI[ev.start:ev.end], ev.text)
        self.assertEqual(ev.utf16_start, ev.rune_start + 2)
        check_evidence(self, EMOJI, r)

    def test_title(self):
        title, text = "🚀 Trí tuệ nhân tạo", "Một bài báo về thời tiết hôm nay."
        for r in (self.client.tag(text, id="t", title=title),
                  self.client.tag_batch([{"id": "t", "title": title, "text": text}])[0]):
            self.assertEqual(r.themes, ["ai"])
            self.assertEqual(r.words, 8)  # the text's words only
            [ev] = r.tags[0].evidence
            self.assertTrue(ev.in_title)
            self.assertEqual(title[ev.rune_start:ev.rune_end], ev.text)
            self.assertEqual(ev.utf16_start, ev.rune_start + 1)
        # Without the title, the same text has no tag.
        self.assertEqual(self.client.tag(text).themes, [])

    def test_needs_unmet(self):
        r = self.client.tag(NEEDS_UNMET, include_untagged=True)
        self.assertEqual(r.themes, [])
        [d] = {t.theme: t for t in r.untagged}["ai"].dropped
        self.assertEqual(d.reason, tagger_pb2.DROP_REASON_NEEDS_UNMET)
        self.assertEqual(NEEDS_UNMET[d.evidence.rune_start:d.evidence.rune_end], "AI")

    def test_dropped_matches(self):
        r = self.client.tag(DROPPED, include_untagged=True)
        self.assertEqual(r.themes, ["semiconductors"])
        untagged = {t.theme: t for t in r.untagged}
        ai = untagged["ai"].dropped
        self.assertTrue(ai)
        for d in ai:
            self.assertEqual(d.reason, tagger_pb2.DROP_REASON_UNSUPPORTED)
            self.assertEqual(DROPPED[d.evidence.rune_start:d.evidence.rune_end], d.evidence.text)
        [drone] = untagged["drones"].dropped
        self.assertEqual(drone.reason, tagger_pb2.DROP_REASON_EXCLUDED)
        self.assertEqual((drone.exclusion, drone.exclusion_text), ("nhac-drone", "nhạc drone"))
        self.assertEqual(DROPPED[drone.exclusion_rune_start:drone.exclusion_rune_end], drone.exclusion_text)
        self.assertEqual(DROPPED.encode()[drone.exclusion_start:drone.exclusion_end].decode(), drone.exclusion_text)
        utf16 = DROPPED.encode("utf-16-le")
        self.assertEqual(utf16[2 * drone.exclusion_utf16_start:2 * drone.exclusion_utf16_end].decode("utf-16-le"),
                         drone.exclusion_text)

    def test_options(self):
        r = self.client.tag(CHIPS, themes=["semiconductors"], language_code="en", omit_evidence=True)
        self.assertEqual(r.themes, ["semiconductors"])
        self.assertEqual(r.tags[0].label, "Semiconductors")
        self.assertEqual(len(r.tags[0].evidence), 0)
        r = self.client.tag(CHIPS, language_code="vi", themes="semiconductors")
        self.assertEqual(r.tags[0].label, "Bán dẫn")

    def test_themes_and_ruleset(self):
        themes = self.client.themes()
        self.assertEqual({t.id for t in themes}, THEMES)
        self.assertEqual(next(t for t in themes if t.id == "drones").label_en, "Drones")
        rs = self.client.ruleset()
        self.assertEqual(rs.theme_count, 5)
        self.assertEqual(rs.source, "embedded:default.yaml")
        self.assertEqual(rs.version, self.client.tag(AI).ruleset_version)

    def test_unary_error_details(self):
        with self.assertRaises(DoctaggerError) as cm:
            self.client.tag(TOO_BIG, id="big")
        e = cm.exception
        self.assertEqual(e.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(e.reason, "DOCUMENT_TOO_LARGE")
        self.assertEqual(e.domain, "doctagger")
        self.assertEqual(e.metadata["limit"], str(MAX_DOC_BYTES))
        self.assertEqual(e.metadata["bytes"], str(len(TOO_BIG.encode())))
        self.assertEqual(e.metadata["documentId"], "big")
        self.assertEqual([v.field for v in e.field_violations], ["document.text"])
        self.assertIn("--max-document-bytes", e.message)
        self.assertIn("DOCUMENT_TOO_LARGE", str(e))

    def test_unknown_theme_fails_the_call(self):
        with self.assertRaises(DoctaggerError) as cm:
            self.client.tag_batch([AI, CHIPS], themes=["ai", "robots"])
        e = cm.exception
        self.assertEqual(e.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(e.reason, "UNKNOWN_THEME")
        self.assertEqual(e.metadata["theme"], "robots")
        self.assertEqual(e.field_violations[0].field, "options.themes[1]")
        self.assertIsInstance(e.field_violations[0], FieldViolation)

    def test_batch_with_a_bad_document(self):
        docs = [("a", AI), {"id": "b", "text": TOO_BIG}, ("c", DRONES, "vi"), EHEALTH]
        rs = self.client.tag_batch(docs)
        self.assertEqual([r.document_id for r in rs], ["a", "b", "c", ""])
        self.assertEqual([r.ok for r in rs], [True, False, True, True])
        self.assertIn("ai", rs[0].themes)
        self.assertEqual(rs[2].themes, ["drones"])
        self.assertEqual(rs[3].themes, ["ehealth"])
        e = rs[1].error
        self.assertEqual(e.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(e.reason, "DOCUMENT_TOO_LARGE")
        self.assertEqual(e.field_violations[0].field, "documents[1].text")
        self.assertEqual(e.metadata["documentId"], "b")
        self.assertEqual(rs[1].tags, [])
        with self.assertRaises(DoctaggerError):
            rs[1].raise_for_error()
        self.assertIs(rs[0].raise_for_error(), rs[0])

    def test_batch_limits(self):
        with self.assertRaises(DoctaggerError) as cm:
            self.client.tag_batch([])
        self.assertEqual(cm.exception.reason, "EMPTY_BATCH")
        with self.assertRaises(DoctaggerError) as cm:
            self.client.tag_batch([NOTHING] * 257)
        self.assertEqual(cm.exception.reason, "BATCH_TOO_LARGE")
        self.assertEqual(cm.exception.metadata["limit"], "256")

    def test_bad_input_type(self):
        with self.assertRaises(TypeError):
            self.client.tag_batch([42])
        with self.assertRaises(ValueError):
            self.client.tag_batch([{"id": "x", "txt": AI}])

    def test_stream_10000_documents(self):
        n = 10_000
        texts = [AI, CHIPS, DRONES, EHEALTH, NOTHING]
        expected = {0: "ai", 1: "semiconductors", 2: "drones", 3: "ehealth"}
        docs = ((f"d{i}", f"{texts[i % 5]} Tin số {i}.") for i in range(n))
        start = time.monotonic()
        seen, order = {}, []
        for r in self.client.stream(docs, timeout=300):
            self.assertTrue(r.ok, r.error)
            self.assertEqual(r.document_id, f"d{r.sequence - 1}")
            self.assertNotIn(r.document_id, seen)
            seen[r.document_id] = r
            order.append(r.sequence)
        elapsed = time.monotonic() - start
        self.assertEqual(set(seen), {f"d{i}" for i in range(n)})
        for i in range(n):
            want = expected.get(i % 5)
            themes = seen[f"d{i}"].themes
            if want:
                self.assertIn(want, themes, f"d{i}")
            else:
                self.assertEqual(themes, [], f"d{i}")
        print(f"\n  stream: {n} documents in {elapsed:.2f}s, {n / elapsed:.0f} docs/s"
              f" ({sum(a > b for a, b in zip(order, order[1:]))} results out of order)",
              file=sys.stderr)

    def test_stream_bad_document_fails_alone(self):
        docs = [("s1", DRONES), ("s2", TOO_BIG), ("s3", EHEALTH)]
        rs = {r.document_id: r for r in self.client.stream(iter(docs), themes=["drones", "ehealth"])}
        self.assertEqual(set(rs), {"s1", "s2", "s3"})
        self.assertEqual(rs["s1"].themes, ["drones"])
        self.assertEqual(rs["s3"].themes, ["ehealth"])  # the options of the first request apply
        self.assertEqual(rs["s2"].sequence, 2)
        self.assertEqual(rs["s2"].error.reason, "DOCUMENT_TOO_LARGE")
        self.assertEqual(rs["s2"].error.metadata["documentId"], "s2")

    def test_stream_input_error_is_raised(self):
        def docs():
            yield ("ok", AI)
            raise KeyError("the caller's own failure")

        with self.assertRaises(KeyError):
            list(self.client.stream(docs(), timeout=30))

    def test_stream_stops_early(self):
        results = self.client.stream(((str(i), AI) for i in itertools.count()), timeout=30)
        first = next(results)
        self.assertTrue(first.ok)
        results.close()  # cancels the endless stream
        self.assertEqual(self.client.tag(DRONES).themes, ["drones"])

    def test_stream_unknown_theme_fails_each_document(self):
        # Unlike a batch, whose call fails, a stream answers each document.
        rs = list(self.client.stream([("x", AI), ("y", CHIPS)], themes=["nope"], timeout=30))
        self.assertEqual(sorted(r.document_id for r in rs), ["x", "y"])
        for r in rs:
            self.assertEqual(r.error.reason, "UNKNOWN_THEME")
            self.assertEqual(r.error.field_violations[0].field, "options.themes[0]")


class AuthTest(unittest.TestCase):
    """A server that requires a bearer token."""

    TOKEN = "test-token-7f3a"

    @classmethod
    def setUpClass(cls):
        cls.server = Taggerd(env={"DOCTAGGER_AUTH_TOKENS": cls.TOKEN}).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def assertUnauthenticated(self, token, call, message):
        with Client(self.server.target, token=token, timeout=10) as c:
            with self.assertRaises(DoctaggerError) as cm:
                call(c)
        e = cm.exception
        self.assertEqual(e.code, grpc.StatusCode.UNAUTHENTICATED)
        self.assertIn(message, e.message)
        self.assertIn("UNAUTHENTICATED", str(e))

    def test_without_token(self):
        self.assertUnauthenticated(None, lambda c: c.tag(AI), "missing bearer token")
        self.assertUnauthenticated(None, lambda c: list(c.stream([AI])), "missing bearer token")

    def test_wrong_token(self):
        self.assertUnauthenticated("not-the-token", lambda c: c.themes(), "invalid bearer token")
        self.assertUnauthenticated("not-the-token", lambda c: c.tag_batch([AI]), "invalid bearer token")

    def test_right_token(self):
        with Client(self.server.target, token=self.TOKEN, timeout=10) as c:
            self.assertIn("ai", c.tag(AI).themes)
            self.assertEqual(len(list(c.stream([AI, CHIPS]))), 2)


if __name__ == "__main__":
    unittest.main()
