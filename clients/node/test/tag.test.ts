// Unary calls against the real taggerd: tag (evidence offsets after emoji),
// themes, ruleset, rich error details, and one REST call compared with gRPC.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient, DoctaggerError, DropReason, type DoctaggerClient } from "../src/index.js";
import { startServer, type Server } from "./server.js";
import { AI_WEAK_CHIP, CHIP_AI, DEFAULT_THEMES, DRONES, DROPPED, EMOJI_AI, NEEDS_UNMET, PLAIN, themesOf } from "./texts.js";

let server: Server;
let client: DoctaggerClient;

before(async () => {
  server = await startServer(["--max-document-bytes=4096"]);
  client = createClient({ target: server.grpcAddr, timeoutMs: 10_000 });
});

after(async () => {
  client?.close();
  await server?.stop();
});

test("tag: theme, and UTF-16 offsets slice the evidence after emoji (rune offsets do not)", async () => {
  const r = await client.tag({ id: "emoji", text: EMOJI_AI, languageCode: "vi" });
  assert.equal(r.documentId, "emoji");
  assert.equal(r.error, undefined);
  assert.deepEqual(themesOf(r.tags), ["ai", "ehealth"]);
  const ai = r.tags[0]!;
  assert.equal(ai.label, ai.labelVi);
  assert.ok(ai.score >= ai.threshold && ai.score <= 1, `score ${ai.score}`);
  assert.ok(ai.evidence.length > 0);
  assert.match(r.rulesetVersion, /^sha256:/);
  assert.ok(r.words > 10);
  const bytes = Buffer.from(EMOJI_AI, "utf8");
  for (const e of ai.evidence) {
    // JavaScript strings index UTF-16 code units: utf16 offsets are the ones.
    assert.equal(EMOJI_AI.slice(e.utf16Start, e.utf16End), e.text);
    // Rune (code point) offsets are 2 behind after two emoji: wrong for slice...
    assert.equal(e.utf16Start - e.runeStart, 2);
    assert.notEqual(EMOJI_AI.slice(e.runeStart, e.runeEnd), e.text);
    // ...right for an array of code points; byte offsets for the UTF-8 bytes.
    assert.equal([...EMOJI_AI].slice(e.runeStart, e.runeEnd).join(""), e.text);
    assert.equal(bytes.subarray(e.start, e.end).toString("utf8"), e.text);
  }
});

test("tag: a title is tagged with the text, its evidence inTitle with UTF-16 offsets into the title", async () => {
  const title = "🚀 Trí tuệ nhân tạo";
  const text = "Một bài báo về thời tiết hôm nay.";
  for (const r of [
    await client.tag({ id: "t", title, text }),
    (await client.tagBatch([{ id: "t", title, text }]))[0]!,
  ]) {
    assert.equal(r.error, undefined);
    assert.deepEqual(themesOf(r.tags), ["ai"]);
    assert.equal(r.words, 8); // the text's words only
    const [e] = r.tags[0]!.evidence;
    assert.ok(e!.inTitle);
    assert.equal(title.slice(e!.utf16Start, e!.utf16End), e!.text);
    assert.equal(e!.text, "Trí tuệ nhân tạo");
  }
  // Without its title the text has no tag.
  assert.deepEqual(themesOf((await client.tag(text)).tags), []);
  await assert.rejects(client.tag({ text, title: 5 as unknown as string }), TypeError);
});

test("tag: a lone surrogate is sent as U+FFFD (one UTF-16 unit too): offsets still slice", async () => {
  // JavaScript strings may hold invalid UTF-16; protobuf-es encodes a lone
  // surrogate as U+FFFD, so the server sees valid UTF-8 (no INVALID_UTF8).
  const text = "\ud800 " + CHIP_AI;
  const r = await client.tag(text);
  assert.equal(r.error, undefined);
  assert.deepEqual(themesOf(r.tags), ["ai", "semiconductors"]);
  for (const e of r.tags.flatMap((t) => t.evidence)) {
    assert.equal(text.slice(e.utf16Start, e.utf16End), e.text);
  }
});

test("tag: dropped matches say why (DropReason), exclusions where (UTF-16 offsets)", async () => {
  const r = await client.tag(DROPPED, { includeUntagged: true });
  assert.deepEqual(themesOf(r.tags), ["semiconductors"]);
  const untagged = new Map(r.untagged.map((t) => [t.theme, t]));
  const ai = untagged.get("ai")?.dropped ?? [];
  assert.ok(ai.length > 0, "ai: no dropped match");
  for (const d of ai) {
    assert.equal(d.reason, DropReason.UNSUPPORTED);
    assert.equal(DROPPED.slice(d.evidence!.utf16Start, d.evidence!.utf16End), d.evidence!.text);
  }
  const [drone, ...more] = untagged.get("drones")?.dropped ?? [];
  assert.equal(more.length, 0);
  assert.equal(drone?.reason, DropReason.EXCLUDED);
  assert.equal(drone.exclusion, "nhac-drone");
  assert.equal(drone.exclusionText, "nhạc drone");
  assert.equal(DROPPED.slice(drone.exclusionUtf16Start, drone.exclusionUtf16End), drone.exclusionText);
  assert.equal(drone.exclusionUtf16Start - drone.exclusionRuneStart, 1); // the emoji
});

test("tag: a term without its own setting is dropped as NEEDS_UNMET", async () => {
  const r = await client.tag(NEEDS_UNMET, { includeUntagged: true });
  assert.deepEqual(themesOf(r.tags), []);
  const [ai, ...more] = r.untagged.find((t) => t.theme === "ai")?.dropped ?? [];
  assert.equal(more.length, 0);
  assert.equal(ai?.reason, DropReason.NEEDS_UNMET);
  assert.equal(ai.evidence!.text, "AI");
  assert.equal(NEEDS_UNMET.slice(ai.evidence!.utf16Start, ai.evidence!.utf16End), "AI");
});

test("tag: a plain string, languageCode en gives English labels, options", async () => {
  const plain = await client.tag(PLAIN);
  assert.equal(plain.documentId, "");
  assert.deepEqual(plain.tags, []);

  const en = await client.tag({ id: "en", text: CHIP_AI, languageCode: "en" });
  const ai = en.tags.find((t) => t.theme === "ai");
  assert.ok(ai, `tags: ${themesOf(en.tags)}`);
  assert.equal(ai.label, ai.labelEn);

  const only = await client.tag(CHIP_AI, { themes: ["semiconductors"], omitEvidence: true });
  assert.deepEqual(themesOf(only.tags), ["semiconductors"]);
  assert.deepEqual(only.tags[0]!.evidence, []);

  const drones = await client.tag(DRONES, { minScore: 0.1 });
  assert.deepEqual(themesOf(drones.tags), ["drones"]);

  const weak = await client.tag(AI_WEAK_CHIP, { includeUntagged: true });
  assert.deepEqual(themesOf(weak.tags), ["ai"]);
  // (e-health lists its weak "trí tuệ nhân tạo" too, with no health setting near it.)
  const under = weak.untagged.find((t) => t.theme === "semiconductors");
  assert.ok(under, `untagged: ${themesOf(weak.untagged)}`);
  assert.ok(under.score < under.threshold);
});

test("themes and ruleset", async () => {
  const themes = await client.themes();
  assert.deepEqual(
    themes.map((t) => t.id),
    DEFAULT_THEMES,
  );
  for (const t of themes) {
    assert.ok(t.labelVi && t.labelEn && t.termCount > 0 && t.threshold > 0, JSON.stringify(t));
  }
  const rs = await client.ruleset();
  assert.equal(rs.source, "embedded:default.yaml");
  assert.equal(rs.themeCount, DEFAULT_THEMES.length);
  assert.match(rs.version, /^sha256:/);
  assert.ok(rs.loadTime instanceof Date && rs.loadTime.getTime() <= Date.now());
});

test("errors: reason, metadata and field violations from the rich status", async () => {
  const unknown = await client.tag(CHIP_AI, { themes: ["ai", "no_such_theme"] }).then(
    () => assert.fail("want an error"),
    (e: unknown) => e,
  );
  assert.ok(unknown instanceof DoctaggerError, String(unknown));
  assert.equal(unknown.code, 3);
  assert.equal(unknown.codeName, "INVALID_ARGUMENT");
  assert.equal(unknown.reason, "UNKNOWN_THEME");
  assert.equal(unknown.domain, "doctagger");
  assert.equal(unknown.metadata["theme"], "no_such_theme");
  assert.deepEqual(unknown.fieldViolations.map((v) => v.field), ["options.themes[1]"]);
  assert.match(unknown.message, /^\[INVALID_ARGUMENT\] .*no_such_theme/);

  await assert.rejects(client.tag(CHIP_AI, { minScore: 1.5 }), (e: DoctaggerError) => {
    assert.equal(e.reason, "INVALID_MIN_SCORE");
    assert.deepEqual(e.fieldViolations.map((v) => v.field), ["options.min_score"]);
    return true;
  });

  await assert.rejects(client.tag({ id: "big", text: "á".repeat(3000) }), (e: DoctaggerError) => {
    assert.equal(e.code, 3);
    assert.equal(e.reason, "DOCUMENT_TOO_LARGE");
    assert.equal(e.metadata["bytes"], "6000");
    assert.equal(e.metadata["limit"], "4096");
    assert.equal(e.fieldViolations[0]?.field, "document.text");
    return true;
  });
});

test("errors: an unreachable server is UNAVAILABLE", async () => {
  // A port that was just free: nothing listens there.
  const { createServer } = await import("node:net");
  const port = await new Promise<number>((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
  const c = createClient({ target: `127.0.0.1:${port}`, timeoutMs: 5_000 });
  try {
    await assert.rejects(c.themes(), (e: DoctaggerError) => {
      assert.ok(e instanceof DoctaggerError);
      assert.equal(e.codeName, "UNAVAILABLE");
      return true;
    });
  } finally {
    c.close();
  }
});

test("gzip: compressed requests (over Connect's 1 KiB threshold) tag the same", async () => {
  const c = createClient({ target: server.grpcAddr, gzip: true, timeoutMs: 10_000 });
  try {
    const text = `${EMOJI_AI} ${PLAIN.repeat(20)}`; // ~2.5 KB, compressed
    const r = await c.tag({ id: "gz", text });
    assert.deepEqual(themesOf(r.tags), ["ai"]);
    const plain = await client.tag({ id: "gz", text });
    assert.equal(r.words, plain.words);
    const batch = await c.tagBatch([text, DRONES]);
    assert.deepEqual(batch.map((b) => themesOf(b.tags)), [["ai"], ["drones"]]);
  } finally {
    c.close();
  }
});

test("REST: POST /v1/documents:tag answers as gRPC does", async () => {
  const body = { document: { id: "x", text: EMOJI_AI } };
  const res = await fetch(`${server.httpUrl}/v1/documents:tag`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const rest = JSON.parse(text) as {
    result: {
      documentId: string;
      rulesetVersion: string;
      words: number;
      tags: { theme: string; score: number; evidence: { text: string; utf16Start: number; utf16End: number }[] }[];
    };
  };
  const grpc = await client.tag({ id: "x", text: EMOJI_AI });
  assert.equal(rest.result.documentId, "x");
  assert.equal(rest.result.rulesetVersion, grpc.rulesetVersion);
  assert.equal(rest.result.words, grpc.words);
  assert.deepEqual(
    rest.result.tags.map((t) => [t.theme, t.score]),
    grpc.tags.map((t) => [t.theme, t.score]),
  );
  const restEvidence = rest.result.tags.flatMap((t) => t.evidence.map((e) => [e.text, e.utf16Start, e.utf16End]));
  const grpcEvidence = grpc.tags.flatMap((t) => t.evidence.map((e) => [e.text, e.utf16Start, e.utf16End]));
  assert.deepEqual(restEvidence, grpcEvidence);
  for (const [t, s, e] of restEvidence as [string, number, number][]) {
    assert.equal(EMOJI_AI.slice(s, e), t);
  }
});
