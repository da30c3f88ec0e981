// BatchTagDocuments against the real taggerd: results in order, a bad
// document fails alone with its error, batch-level errors throw.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient, DoctaggerError, type DoctaggerClient } from "../src/index.js";
import { startServer, type Server } from "./server.js";
import { CHIP_AI, DRONES, EMOJI_AI, PLAIN, themesOf } from "./texts.js";

let server: Server;
let client: DoctaggerClient;

before(async () => {
  server = await startServer(["--max-document-bytes=4096", "--max-batch-documents=50"]);
  client = createClient({ target: server.grpcAddr, timeoutMs: 10_000 });
});

after(async () => {
  client?.close();
  await server?.stop();
});

test("batch: one over-size document fails alone, the others are tagged, in order", async () => {
  const big = "Trí tuệ nhân tạo. ".repeat(300); // 5,700 bytes > 4096
  const results = await client.tagBatch([
    { id: "a", text: EMOJI_AI },
    { id: "too-big", text: big },
    DRONES, // a plain string: its index is its id
    { id: "d", text: PLAIN },
    { id: "e", text: CHIP_AI, languageCode: "en" },
  ]);
  assert.deepEqual(
    results.map((r) => r.documentId),
    ["a", "too-big", "2", "d", "e"],
  );
  assert.deepEqual(themesOf(results[0]!.tags), ["ai", "ehealth"]);
  assert.deepEqual(themesOf(results[2]!.tags), ["drones"]);
  assert.deepEqual(results[3]!.tags, []);
  assert.deepEqual(themesOf(results[4]!.tags), ["ai", "semiconductors"]);
  for (const i of [0, 2, 3, 4]) {
    assert.equal(results[i]!.error, undefined, `result ${i}`);
  }

  const bad = results[1]!;
  assert.deepEqual(bad.tags, []);
  const err = bad.error;
  assert.ok(err instanceof DoctaggerError);
  assert.equal(err.codeName, "INVALID_ARGUMENT");
  assert.equal(err.reason, "DOCUMENT_TOO_LARGE");
  assert.equal(err.domain, "doctagger");
  assert.equal(err.documentId, "too-big");
  assert.equal(err.metadata["bytes"], String(Buffer.byteLength(big)));
  assert.equal(err.metadata["limit"], "4096");
  assert.deepEqual(err.fieldViolations.map((v) => v.field), ["documents[1].text"]);
  assert.match(err.rawMessage, /4096/);
});

test("batch: over --max-batch-documents throws BATCH_TOO_LARGE with the limit", async () => {
  const docs = Array.from({ length: 51 }, (_, i) => ({ id: `n${i}`, text: PLAIN }));
  await assert.rejects(client.tagBatch(docs), (e: unknown) => {
    assert.ok(e instanceof DoctaggerError);
    assert.equal(e.codeName, "INVALID_ARGUMENT");
    assert.equal(e.reason, "BATCH_TOO_LARGE");
    assert.equal(e.metadata["limit"], "50");
    assert.equal(e.metadata["documents"], "51");
    return true;
  });
  const ok = await client.tagBatch(docs.slice(0, 50));
  assert.equal(ok.length, 50);
});

test("batch: empty batch throws EMPTY_BATCH", async () => {
  await assert.rejects(client.tagBatch([]), (e: DoctaggerError) => e.reason === "EMPTY_BATCH");
});

test("batch: an unknown theme fails the call (options are for every document)", async () => {
  await assert.rejects(client.tagBatch([PLAIN, DRONES], { themes: ["nope"] }), (e: DoctaggerError) => {
    assert.equal(e.reason, "UNKNOWN_THEME");
    assert.deepEqual(e.fieldViolations.map((v) => v.field), ["options.themes[0]"]);
    return true;
  });
});
