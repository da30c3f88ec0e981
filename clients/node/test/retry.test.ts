// Retry hints (google.rpc.RetryInfo) against the real taggerd: a caller over
// its quota (RESOURCE_EXHAUSTED QUOTA_EXCEEDED) and an overloaded server
// (UNAVAILABLE OVERLOADED). Each test starts its own server.

import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test, type TestContext } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient, DoctaggerError, retryHintMs, type ClientOptions, type DoctaggerClient, type TagResult } from "../src/index.js";
import { StreamTagDocumentsRequestSchema } from "../src/gen/tagger/v1/tagger_pb.js";
import { startServer, type Server } from "./server.js";
import { themesOf } from "./texts.js";

/** Tags "ehealth". */
const EHEALTH = "Bệnh viện tỉnh bắt đầu dùng bệnh án điện tử thay cho hồ sơ giấy từ tháng này.";
/** About 2.9 KB, tagged ai and ehealth with much evidence (a result of about 8 KB). */
const BIG = "Bệnh viện dùng bệnh án điện tử và trí tuệ nhân tạo. ".repeat(40);

const deferred = new WeakMap<TestContext, Array<() => unknown>>();

/** Runs fn after the test, before what was deferred earlier (the server's stop last). */
function defer(t: TestContext, fn: () => unknown): void {
  let fns = deferred.get(t);
  if (!fns) {
    const list: Array<() => unknown> = [];
    deferred.set(t, (fns = list));
    t.after(async () => {
      for (const f of list.reverse()) await f();
    });
  }
  fns.push(fn);
}

async function serve(t: TestContext, args: string[]): Promise<Server> {
  const server = await startServer(args);
  defer(t, () => server.stop());
  return server;
}

function clientOf(t: TestContext, server: Server, o: Partial<ClientOptions> = {}): DoctaggerClient {
  const client = createClient({ target: server.grpcAddr, timeoutMs: 10_000, ...o });
  defer(t, () => client.close());
  return client;
}

test("quota: 6 unary calls pass at the quota's pace, waiting the hints", { timeout: 10_000 }, async (t) => {
  const server = await serve(t, ["--quota-documents-per-second=2", "--quota-burst=2"]);
  const waits: Array<[string | undefined, number]> = [];
  const client = clientOf(t, server, { onRetry: (err, ms) => waits.push([err.reason, ms]) });
  const start = performance.now();
  for (let i = 0; i < 6; i++) {
    // tag and tagBatch in turn, a document each
    if (i % 2 === 0) {
      assert.deepEqual(themesOf((await client.tag({ id: `d${i}`, text: EHEALTH })).tags), ["ehealth"]);
    } else {
      const [r] = await client.tagBatch([{ id: `d${i}`, text: EHEALTH }]);
      assert.equal(r?.documentId, `d${i}`);
    }
  }
  const took = performance.now() - start;
  // Two at once, then four at 2 a second: about 2 s.
  assert.ok(took > 1600 && took < 5000, `took ${took} ms, waits ${JSON.stringify(waits)}`);
  assert.ok(waits.length > 0 && waits.length <= 8, JSON.stringify(waits)); // waited as told, not polled
  for (const [reason, ms] of waits) {
    assert.equal(reason, "QUOTA_EXCEEDED");
    assert.ok(ms > 0 && ms <= 600, `delay ${ms}`);
  }
});

test("quota: without retries the third call throws QUOTA_EXCEEDED with its delay", { timeout: 10_000 }, async (t) => {
  const server = await serve(t, ["--quota-documents-per-second=2", "--quota-burst=2"]);
  const client = clientOf(t, server, { maxRetries: 0 });
  await client.tag(EHEALTH);
  await client.tagBatch([EHEALTH]);
  const err = await client.tag(EHEALTH).then(
    () => assert.fail("the third call passed"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DoctaggerError, String(err));
  assert.equal(err.code, Code.ResourceExhausted);
  assert.equal(err.reason, "QUOTA_EXCEEDED");
  assert.equal(err.metadata["caller"], "anonymous");
  assert.ok(err.retryDelayMs !== undefined && err.retryDelayMs > 0 && err.retryDelayMs <= 600, `${err.retryDelayMs}`);
  assert.equal(retryHintMs(err), err.retryDelayMs);
  assert.equal(err.toJSON()["retryDelayMs"], err.retryDelayMs);
});

test("quota: the call's deadline bounds the retries", { timeout: 10_000 }, async (t) => {
  const server = await serve(t, ["--quota-documents-per-second=2", "--quota-burst=2"]);
  const client = clientOf(t, server, { timeoutMs: 300 }); // shorter than the 500 ms hint
  await client.tag(EHEALTH);
  await client.tag(EHEALTH);
  const start = performance.now();
  await assert.rejects(client.tag(EHEALTH), (e: unknown) => e instanceof DoctaggerError && e.reason === "QUOTA_EXCEEDED");
  assert.ok(performance.now() - start < 300);
});

/** Holds the caller's only stream (--quota-streams=1) open until released. */
async function holdStream(t: TestContext, server: Server): Promise<() => void> {
  let release!: () => void;
  const released = new Promise<void>((res) => (release = res));
  const client = clientOf(t, server);
  async function* one() {
    yield { document: { id: "h", text: EHEALTH } };
    await released;
  }
  const responses = client.raw.streamTagDocuments(one(), { timeoutMs: 10_000 })[Symbol.asyncIterator]();
  const first = await responses.next(); // open and counted
  assert.equal(first.value?.result?.documentId, "h");
  defer(t, () => {
    release();
    void responses.return?.();
  });
  void (async () => {
    try {
      while (!(await responses.next()).done);
    } catch {
      // ended by the test
    }
  })();
  return release;
}

test("stream quota: a refused stream is reopened after the hint, its documents resent", { timeout: 10_000 }, async (t) => {
  const server = await serve(t, ["--quota-streams=1"]);
  const release = await holdStream(t, server);
  const waits: Array<[number, string | undefined, number]> = [];
  const client = clientOf(t, server, {
    onRetry: (err, ms) => {
      waits.push([err.code, err.reason, ms]);
      release(); // the first stream ends during the wait
    },
  });
  const docs = Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, text: EHEALTH }));
  const results: TagResult[] = [];
  for await (const r of client.stream(docs, { timeoutMs: 8_000 })) {
    results.push(r);
  }
  assert.deepEqual(waits, [[Code.ResourceExhausted, "QUOTA_EXCEEDED", 1000]]);
  assert.deepEqual(results.map((r) => r.documentId).sort(), ["s0", "s1", "s2", "s3", "s4"]);
  for (const r of results) {
    assert.equal(r.error, undefined);
    assert.equal(r.sequence, Number(r.documentId.slice(1)) + 1);
    assert.deepEqual(themesOf(r.tags), ["ehealth"]);
  }
});

test("stream quota: without retries the refused stream throws", { timeout: 10_000 }, async (t) => {
  const server = await serve(t, ["--quota-streams=1"]);
  await holdStream(t, server);
  const client = clientOf(t, server, { maxRetries: 0 });
  await assert.rejects(
    async () => {
      for await (const _ of client.stream([EHEALTH], { timeoutMs: 5_000 }));
    },
    (e: unknown) => e instanceof DoctaggerError && e.reason === "QUOTA_EXCEEDED" && e.retryDelayMs === 1000,
  );
});

function frame(type: number, flags: number, streamId: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}

/**
 * A raw HTTP/2 connection with one StreamTagDocuments stream that sends 20
 * documents of BIG and lets the server send nothing back (its windows are
 * 0): the server's document budget fills with what it holds for it (as in
 * server/overload_test.go). Destroy the socket to end it.
 */
function greedyConnection(target: string): Promise<Socket> {
  const literal = (name: string, value: string) => {
    // HPACK literal, not indexed, lengths under 127
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    return Buffer.concat([Buffer.from([0, n.length]), n, Buffer.from([v.length]), v]);
  };
  const headers = Buffer.concat([
    literal(":method", "POST"),
    literal(":scheme", "http"),
    literal(":path", "/tagger.v1.TaggerService/StreamTagDocuments"),
    literal(":authority", target),
    literal("content-type", "application/grpc"),
    literal("te", "trailers"),
  ]);
  const msg = toBinary(StreamTagDocumentsRequestSchema, create(StreamTagDocumentsRequestSchema, { document: { id: "g", text: BIG } }));
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(msg.length, 1);
  const data = frame(0, 0, 1, Buffer.concat([prefix, msg]));
  const settings = Buffer.alloc(6);
  settings.writeUInt16BE(4, 0); // SETTINGS_INITIAL_WINDOW_SIZE
  settings.writeUInt32BE(0, 2);
  const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
  return new Promise((res, rej) => {
    const sock = connect({ host, port }, () => {
      sock.write(
        Buffer.concat([
          Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
          frame(4, 0, 0, settings),
          frame(4, 1, 0, new Uint8Array()), // ack of the server's
          frame(1, 4, 1, headers),
          ...Array.from({ length: 20 }, () => data),
        ]),
      );
      res(sock);
    });
    sock.on("error", rej);
    sock.resume(); // discard what the server sends
  });
}

/** A server with a small document budget, and greedy connections to fill it. */
async function overloadable(t: TestContext) {
  const server = await serve(t, ["--max-inflight-bytes=16384", "--stream-max-in-flight=8"]);
  const greedy: Socket[] = [];
  const release = () => {
    for (const s of greedy.splice(0)) s.destroy();
  };
  defer(t, release);
  const probe = clientOf(t, server, { maxRetries: 0, timeoutMs: 5_000 });
  /** Opens greedy connections until a call is shed (at most 5 s). */
  const overload = async () => {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      greedy.push(await greedyConnection(server.grpcAddr));
      try {
        await probe.tag(BIG);
      } catch (err) {
        if (err instanceof DoctaggerError && err.reason === "OVERLOADED") {
          return;
        }
        throw err;
      }
    }
    assert.fail("the server was not overloaded");
  };
  return { server, overload, release };
}

test("overload: a shed unary call is retried after the hint", { timeout: 10_000 }, async (t) => {
  const { server, overload, release } = await overloadable(t);
  await overload();
  const waits: Array<[number, string | undefined, number]> = [];
  const client = clientOf(t, server, {
    onRetry: (err, ms) => {
      waits.push([err.code, err.reason, ms]);
      release();
    },
  });
  const r = await client.tag({ id: "late", text: BIG });
  assert.equal(r.documentId, "late");
  assert.deepEqual(themesOf(r.tags), ["ai", "ehealth"]);
  assert.deepEqual(waits[0], [Code.Unavailable, "OVERLOADED", 1000]);
});

test("overload: a shed stream keeps its results and resends the unanswered documents", { timeout: 10_000 }, async (t) => {
  // Documents 0-2 are answered; then the budget fills, document 3 is shed
  // and the stream ends "documents 1..3"; the client waits the hint (the
  // greedy connections go meanwhile) and sends 3-5 again.
  const { server, overload, release } = await overloadable(t);
  const events: string[] = [];
  const results: TagResult[] = [];
  async function* docs() {
    for (let i = 0; i < 6; i++) {
      if (i === 3) {
        const deadline = Date.now() + 5_000;
        while (results.length < 3 && Date.now() < deadline) {
          await new Promise((res) => setTimeout(res, 10)); // the first three answered
        }
        await overload();
      }
      events.push(`send ${i}`);
      yield { id: `d${i}`, text: BIG };
    }
  }
  const client = clientOf(t, server, {
    onRetry: (err, ms) => {
      events.push(`retry ${err.reason} ${ms}`);
      assert.match(err.rawMessage, /documents 1\.\.[0-9]/);
      release();
    },
  });
  for await (const r of client.stream(docs(), { timeoutMs: 9_000 })) {
    results.push(r);
    events.push(`result ${r.documentId}`);
  }
  const ids = results.map((r) => r.documentId);
  assert.deepEqual([...ids].sort(), ["d0", "d1", "d2", "d3", "d4", "d5"], events.join(", ")); // each exactly once
  for (const r of results) {
    assert.equal(r.error, undefined);
    assert.equal(r.sequence, Number(r.documentId.slice(1)) + 1);
    assert.deepEqual(themesOf(r.tags), ["ai", "ehealth"]);
  }
  const retries = events.filter((e) => e.startsWith("retry"));
  assert.deepEqual(retries, ["retry OVERLOADED 1000"], events.join(", "));
  // The first results came before the stream was shed.
  assert.ok(events.slice(0, events.indexOf(retries[0]!)).includes("result d0"), events.join(", "));
});
