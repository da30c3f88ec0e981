// Authentication against the real taggerd started with a token.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient, DoctaggerError, type DoctaggerClient } from "../src/index.js";
import { startServer, type Server } from "./server.js";
import { DRONES, themesOf } from "./texts.js";

const TOKEN = "node-test-token-0123456789";

let server: Server;
const clients: DoctaggerClient[] = [];

function client(token?: string): DoctaggerClient {
  const c = createClient({ target: server.grpcAddr, timeoutMs: 10_000, ...(token === undefined ? {} : { token }) });
  clients.push(c);
  return c;
}

before(async () => {
  // The token through the environment, as in production (no flag: ps).
  server = await startServer([], { DOCTAGGER_AUTH_TOKENS: TOKEN });
});

after(async () => {
  for (const c of clients) c.close();
  await server?.stop();
});

function isUnauthenticated(reason: string, want: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof DoctaggerError, String(e));
    assert.equal(e.codeName, "UNAUTHENTICATED");
    assert.equal(e.code, 16);
    assert.equal(e.reason, reason);
    assert.equal(e.domain, "doctagger");
    assert.match(e.rawMessage, want);
    assert.match(e.message, /^\[UNAUTHENTICATED\] /);
    return true;
  };
}

test("auth: no token is UNAUTHENTICATED, saying which header to send", async () => {
  const c = client();
  await assert.rejects(c.tag(DRONES), isUnauthenticated("MISSING_TOKEN", /missing bearer token.*authorization: Bearer/));
  await assert.rejects(c.tagBatch([DRONES]), isUnauthenticated("MISSING_TOKEN", /missing bearer token/));
  await assert.rejects(c.themes(), isUnauthenticated("MISSING_TOKEN", /missing bearer token/));
  await assert.rejects(async () => {
    for await (const _ of c.stream([DRONES])) {
      assert.fail("no result without a token");
    }
  }, isUnauthenticated("MISSING_TOKEN", /missing bearer token/));
});

test("auth: a wrong token is UNAUTHENTICATED", async () => {
  const c = client("not-the-token");
  await assert.rejects(c.tag(DRONES), isUnauthenticated("INVALID_TOKEN", /invalid bearer token/));
  await assert.rejects(async () => {
    for await (const _ of c.stream([DRONES])) {
      assert.fail("no result with a wrong token");
    }
  }, isUnauthenticated("INVALID_TOKEN", /invalid bearer token/));
});

test("auth: the right token tags, over unary and stream", async () => {
  const c = client(TOKEN);
  assert.deepEqual(themesOf((await c.tag(DRONES)).tags), ["drones"]);
  const got = [];
  for await (const r of c.stream([DRONES, DRONES])) {
    got.push(r);
  }
  assert.equal(got.length, 2);
});
