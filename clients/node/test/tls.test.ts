// TLS against the real taggerd with a self-signed certificate made here
// (openssl; the test skips without it).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createClient, DoctaggerError, type DoctaggerClient } from "../src/index.js";
import { startServer, type Server } from "./server.js";
import { DRONES, themesOf } from "./texts.js";

const dir = mkdtempSync(join(tmpdir(), "doctagger-node-tls-"));
const cert = join(dir, "cert.pem");
const key = join(dir, "key.pem");
const openssl = spawnSync(
  "openssl",
  [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=doctagger-test",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ],
  { stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 },
);
const skip = openssl.status === 0 ? false : `no openssl to make a certificate (${openssl.error ?? openssl.stderr})`;

let server: Server | undefined;
const clients: DoctaggerClient[] = [];

before(async () => {
  if (!skip) {
    server = await startServer([`--tls-cert=${cert}`, `--tls-key=${key}`]);
  }
});

after(async () => {
  for (const c of clients) c.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("tls: trusting the server's certificate tags", { skip }, async () => {
  const c = createClient({ target: server!.grpcAddr, tls: { ca: readFileSync(cert) }, timeoutMs: 10_000 });
  clients.push(c);
  assert.deepEqual(themesOf((await c.tag(DRONES)).tags), ["drones"]);
  const results = [];
  for await (const r of c.stream([DRONES, DRONES])) results.push(r);
  assert.equal(results.length, 2);
});

test("tls: an untrusted certificate fails (INTERNAL, naming the certificate), so does plaintext", { skip }, async () => {
  const untrusted = createClient({ target: server!.grpcAddr, tls: true, timeoutMs: 5_000 });
  const plain = createClient({ target: server!.grpcAddr, timeoutMs: 5_000 });
  clients.push(untrusted, plain);
  // Connect reports a refused certificate as INTERNAL (grpc-js: UNAVAILABLE).
  await assert.rejects(untrusted.themes(), (e: DoctaggerError) => {
    assert.ok(e instanceof DoctaggerError);
    assert.equal(e.codeName, "INTERNAL", e.message);
    assert.match(e.rawMessage, /certificate/i);
    return true;
  });
  // Plaintext HTTP/2 to the TLS port: the connection dies (CANCELLED today).
  await assert.rejects(plain.themes(), DoctaggerError);
});
