// StreamTagDocuments against the real taggerd: 10,000 documents over one
// bidirectional stream from a lazy generator; every id comes back once.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient, DoctaggerError, type DoctaggerClient, type DocumentInput } from "../src/index.js";
import { startServer, type Server } from "./server.js";
import { CHIP_AI, DRONES, EMOJI_AI, PLAIN, themesOf } from "./texts.js";

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

const TEXTS = [EMOJI_AI, CHIP_AI, DRONES, PLAIN];
const WANT = [["ai", "ehealth"], ["ai", "semiconductors"], ["drones"], []];
const N = 10_000;
const BAD = 4_321; // over --max-document-bytes

let produced = 0;

async function* documents(): AsyncGenerator<DocumentInput> {
  for (let i = 0; i < N; i++) {
    produced++;
    if (i === BAD) {
      yield { id: `doc-${i}`, text: "x".repeat(5000) };
    } else {
      yield { id: `doc-${i}`, text: TEXTS[i % TEXTS.length]! };
    }
  }
}

test(`stream: ${N} documents, every id exactly once, one bad document fails alone`, { timeout: 120_000 }, async (t) => {
  const seen = new Map<string, number>();
  const sequences = new Set<number>();
  let errors = 0;
  let received = 0;
  let maxAhead = 0; // documents read from the generator but not yet answered
  const t0 = performance.now();
  for await (const r of client.stream(documents(), { timeoutMs: 110_000 })) {
    received++;
    maxAhead = Math.max(maxAhead, produced - received);
    seen.set(r.documentId, (seen.get(r.documentId) ?? 0) + 1);
    sequences.add(r.sequence);
    const i = Number(r.documentId.slice("doc-".length));
    assert.equal(r.sequence, i + 1, `sequence of ${r.documentId}`);
    if (i === BAD) {
      errors++;
      assert.ok(r.error instanceof DoctaggerError);
      assert.equal(r.error.reason, "DOCUMENT_TOO_LARGE");
      assert.equal(r.error.documentId, r.documentId);
      continue;
    }
    assert.equal(r.error, undefined, `${r.documentId}: ${r.error?.message}`);
    assert.deepEqual(themesOf(r.tags), WANT[i % TEXTS.length], r.documentId);
  }
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(seen.size, N);
  assert.ok([...seen.values()].every((n) => n === 1), "an id came back twice");
  for (let i = 0; i < N; i++) {
    assert.ok(seen.has(`doc-${i}`), `doc-${i} missing`);
  }
  assert.equal(sequences.size, N);
  assert.equal(errors, 1);
  // The input is read as the server takes it (HTTP/2 flow control and the
  // server's --stream-max-in-flight), not drained into memory first.
  assert.ok(maxAhead < N / 2, `the generator ran ${maxAhead} documents ahead of the results`);
  t.diagnostic(
    `stream: ${N} documents in ${seconds.toFixed(2)} s, ${Math.round(N / seconds)} docs/s ` +
      `(at most ${maxAhead} documents in flight)`,
  );
});

test("stream: options ride on the first request and hold for the rest", async () => {
  const docs = [CHIP_AI, CHIP_AI, CHIP_AI];
  const got = [];
  for await (const r of client.stream(docs, { themes: ["semiconductors"], omitEvidence: true })) {
    got.push(r);
  }
  assert.deepEqual(got.map((r) => r.documentId).sort(), ["0", "1", "2"]);
  for (const r of got) {
    assert.deepEqual(themesOf(r.tags), ["semiconductors"]);
    assert.deepEqual(r.tags[0]!.evidence, []);
  }
});

test("stream: breaking out of the loop cancels the stream, the client goes on", { timeout: 30_000 }, async () => {
  let k = 0;
  function* endless(): Generator<DocumentInput> {
    for (;;) {
      yield { id: `e${k++}`, text: DRONES };
    }
  }
  let n = 0;
  for await (const r of client.stream(endless())) {
    assert.equal(r.error, undefined);
    if (++n === 5) {
      break;
    }
  }
  assert.equal(n, 5);
  const after = await client.tag(DRONES);
  assert.deepEqual(themesOf(after.tags), ["drones"]);
});

test("stream: an unknown theme fails that document, the stream goes on", async () => {
  const got = [];
  for await (const r of client.stream([PLAIN, DRONES], { themes: ["nope"] })) {
    got.push(r);
  }
  // The options ride on the first request: it fails; the second inherits them.
  assert.equal(got.length, 2);
  for (const r of got) {
    assert.equal(r.error?.reason, "UNKNOWN_THEME", JSON.stringify(r));
  }
});
