// Starts the real taggerd on 127.0.0.1 with ports the kernel picks, for the
// tests. The binary is $DOCTAGGER_TAGGERD (.ci/checks.d/61-node.sh builds it
// once), else it is built here with `go build` into a temporary directory.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

let built: string | undefined;

/** The taggerd binary: $DOCTAGGER_TAGGERD, or built once per process. */
export function taggerdBinary(): string {
  const fromEnv = process.env["DOCTAGGER_TAGGERD"];
  if (fromEnv) {
    return fromEnv;
  }
  if (!built) {
    const out = join(mkdtempSync(join(tmpdir(), "doctagger-node-")), "taggerd");
    const r = spawnSync("go", ["build", "-o", out, "./cmd/taggerd"], {
      cwd: repoRoot,
      stdio: ["ignore", "inherit", "inherit"],
      timeout: 300_000,
    });
    if (r.status !== 0) {
      throw new Error(`go build ./cmd/taggerd failed (status ${r.status}, ${r.error ?? r.signal ?? ""})`);
    }
    built = out;
  }
  return built;
}

export interface Server {
  /** "127.0.0.1:PORT" of gRPC. */
  grpcAddr: string;
  /** "http://127.0.0.1:PORT" of REST. */
  httpUrl: string;
  /** The server's log so far (JSON lines), for failure messages. */
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

/**
 * Starts taggerd with the given extra flags and environment, and resolves
 * once it logs "taggerd serving" with its addresses (at most 30 s).
 */
export async function startServer(args: string[] = [], env: Record<string, string> = {}): Promise<Server> {
  const bin = taggerdBinary();
  const child: ChildProcess = spawn(
    bin,
    [
      "--grpc-addr=127.0.0.1:0",
      "--http-addr=127.0.0.1:0",
      "--log-format=json",
      "--playground=false",
      "--watch-rules=false",
      "--shutdown-grace=2s",
      ...args,
    ],
    { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] },
  );
  const lines: string[] = [];
  const exited = new Promise<void>((res) => child.once("exit", () => res()));

  const ready = new Promise<{ grpc: string; http: string }>((res, rej) => {
    const rl = createInterface({ input: child.stderr! });
    rl.on("line", (line) => {
      lines.push(line);
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        if (rec["msg"] === "taggerd serving") {
          res({ grpc: String(rec["grpc"]), http: String(rec["http"]) });
        }
      } catch {
        // not JSON: keep it for the log
      }
    });
    child.once("error", rej);
    child.once("exit", (code, signal) =>
      rej(new Error(`taggerd exited before serving (code ${code}, signal ${signal}):\n${lines.join("\n")}`)),
    );
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`taggerd did not serve within 30s:\n${lines.join("\n")}`)), 30_000);
  });
  let addrs: { grpc: string; http: string };
  try {
    addrs = await Promise.race([ready, timeout]);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  } finally {
    clearTimeout(timer);
  }

  return {
    grpcAddr: addrs.grpc,
    httpUrl: `http://${addrs.http}`,
    log: () => lines.join("\n"),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        return;
      }
      child.kill("SIGTERM");
      const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(kill);
    },
  };
}
