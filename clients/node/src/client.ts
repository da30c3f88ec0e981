// The idiomatic client: createClient({target, token, tls}) and plain
// promises and async iterables over the generated TaggerService.

import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, createClient as createConnectClient, type CallOptions, type Client, type Interceptor } from "@connectrpc/connect";
import { compressionGzip, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type * as http2 from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { DoctaggerError, retryHintMs } from "./errors.js";
import {
  DocumentSchema,
  TagOptionsSchema,
  TaggerService,
  type Document,
  type DocumentResult,
  type Tag,
  type TagOptions as TagOptionsMessage,
  type Theme,
} from "./gen/tagger/v1/tagger_pb.js";

/** TLS settings for createClient; `tls: true` trusts the system's CAs. */
export interface TlsOptions {
  /** CA certificates (PEM) to trust instead of the system's. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate (PEM), for a server started with --client-ca. */
  cert?: string | Buffer;
  /** The client certificate's private key (PEM). */
  key?: string | Buffer;
  /** Name to check the server's certificate against (default: the target's host). */
  servername?: string;
}

export interface ClientOptions {
  /**
   * The gRPC server: "host:port" (e.g. "127.0.0.1:9090"), or a URL
   * "http://host:port" / "https://host:port".
   */
  target: string;
  /** Bearer token, sent as "authorization: Bearer <token>" on every call. */
  token?: string;
  /** TLS (https): true, or certificates. Implied by an https:// target. */
  tls?: boolean | TlsOptions;
  /**
   * Deadline of each unary call (tag, tagBatch, themes, ruleset) in
   * milliseconds, unless a call sets its own. Default 30000; 0 for none.
   * Streams have no deadline unless stream() is given one.
   */
  timeoutMs?: number;
  /** Compresses requests with gzip (answers come compressed in kind). */
  gzip?: boolean;
  /** More Connect interceptors (logging, tracing). */
  interceptors?: Interceptor[];
  /**
   * How many times a call refused with a retry hint (google.rpc.RetryInfo)
   * is tried again: RESOURCE_EXHAUSTED QUOTA_EXCEEDED (the caller is over
   * its quota) and UNAVAILABLE OVERLOADED (load shed). Each try waits the
   * delay the server asks for (at most 30 s), while the call's deadline
   * leaves time for it; a stream is reopened and sent the documents left
   * unanswered. Default 5; 0 throws the DoctaggerError at once (its
   * `retryDelayMs` set).
   */
  maxRetries?: number;
  /** Called before each such wait (say, to log it). */
  onRetry?: (err: DoctaggerError, delayMs: number) => void;
}

/** A document: its text alone, or with an id, a title and a language hint. */
export type DocumentInput =
  | string
  | {
      /** Client-chosen id, echoed in the result and named in errors. */
      id?: string;
      text: string;
      /**
       * Optional title (headline), tagged as part of the document: a match
       * in it weighs the ruleset's scoring.title_weight, and its evidence
       * has `inTitle` set, with offsets into the title.
       */
      title?: string;
      /** BCP 47 hint such as "vi" or "en"; "en" gives English labels. */
      languageCode?: string;
    };

/** tagger.v1.TagOptions, plus per-call settings. */
export interface TagOptions {
  /** Only these theme ids (empty: all). An unknown id is INVALID_ARGUMENT (UNKNOWN_THEME). */
  themes?: string[];
  /** Leaves Tag.evidence and Tag.dropped empty. */
  omitEvidence?: boolean;
  /** Drops tags scoring below it, on top of each theme's threshold. */
  minScore?: number;
  /** Also reports themes under their threshold in TagResult.untagged. */
  includeUntagged?: boolean;
  /**
   * Deadline of this call in milliseconds (0: none), its retries and their
   * waits included.
   */
  timeoutMs?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** The answer for one document. */
export interface TagResult {
  /** The document's id. */
  documentId: string;
  /** Themes that reached their threshold, highest score first. */
  tags: Tag[];
  /** With includeUntagged: themes under their threshold. */
  untagged: Tag[];
  /** The version of the ruleset that produced this result. */
  rulesetVersion: string;
  /** Number of word tokens in the document. */
  words: number;
  /**
   * In streams: the position of the document in the input, counted from 1
   * (the request's sequence number); 0 elsewhere.
   */
  sequence: number;
  /** In batches and streams: set when this document failed (the rest is then empty). */
  error?: DoctaggerError;
}

/** The ruleset the server is serving. */
export interface RulesetInfo {
  name: string;
  version: string;
  source: string;
  loadTime?: Date;
  themeCount: number;
  termCount: number;
  exclusionCount: number;
}

export interface DoctaggerClient {
  /** Tags one document; throws DoctaggerError when it fails. */
  tag(doc: DocumentInput, options?: TagOptions): Promise<TagResult>;
  /**
   * Tags documents in one call (at most the server's --max-batch-documents);
   * the results are in input order. A bad document does not throw: its
   * result has `error`. Throws DoctaggerError when the call itself fails.
   * A document given as a plain string gets its index ("0", "1", ...) as id.
   */
  tagBatch(docs: Iterable<DocumentInput>, options?: TagOptions): Promise<TagResult[]>;
  /**
   * Tags the documents of an (async) iterable over one bidirectional stream
   * and yields each result as soon as it comes (not necessarily in input
   * order: match on documentId or sequence). Documents are read as the
   * server takes them (flow control), so the input may be lazy and long. A
   * bad document yields a result with `error` and the stream goes on; a
   * failure of the stream itself throws DoctaggerError from the iteration
   * (an error thrown by the input is thrown as is). Breaking out of the
   * loop cancels the stream. A document given as a plain string gets its
   * index ("0", "1", ...) as id.
   *
   * A stream that ends with a retry hint (shed for overload once the
   * documents it took are answered, or refused for the caller's quota of
   * open streams) is reopened after the delay and sent the documents that
   * got no result, first: each document yields one result, with its
   * sequence in the input, however many streams it took. Up to maxRetries
   * streams in a row may end so without answering a document.
   */
  stream(
    docs: AsyncIterable<DocumentInput> | Iterable<DocumentInput>,
    options?: TagOptions,
  ): AsyncIterable<TagResult>;
  /** The themes of the current ruleset, in ruleset order. */
  themes(options?: Pick<TagOptions, "timeoutMs" | "signal">): Promise<Theme[]>;
  /** Describes the current ruleset. */
  ruleset(options?: Pick<TagOptions, "timeoutMs" | "signal">): Promise<RulesetInfo>;
  /** The generated Connect client, for what the helper does not cover. */
  readonly raw: Client<typeof TaggerService>;
  /** Closes the connection (and any stream still open). */
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RETRIES = 5;

/** A document read from a stream's input: n is its place there, from 1. */
interface Item {
  n: number;
  doc: Document;
}

/**
 * The input of one stream() call, read lazily by its streams one after the
 * other. carry holds documents read but not answered, which the next
 * stream sends first. Reads are serialized: a stream that ended may still
 * be waiting for a document when the next one starts.
 */
class Feed {
  private it: AsyncIterator<DocumentInput> | Iterator<DocumentInput> | undefined;
  private reading: Promise<unknown> = Promise.resolve();
  private read = 0;
  carry: Item[] = [];
  done = false;
  failed = false;
  error: unknown;

  constructor(private readonly docs: AsyncIterable<DocumentInput> | Iterable<DocumentInput>) {}

  /** The next document for run (a carried one first); undefined at the end. */
  next(run: Run): Promise<Item | undefined> {
    const p = this.reading.then(async () => {
      if (run.stopped) {
        return undefined;
      }
      let item = this.carry.shift() ?? (await this.pull());
      if (run.stopped) {
        if (item) this.giveBack([item]); // read as run ended: for the next stream
        return undefined;
      }
      item ??= this.carry.shift(); // given back by a stream that ended meanwhile
      if (item) run.sent.push(item);
      return item;
    });
    this.reading = p.catch(() => undefined);
    return p;
  }

  private async pull(): Promise<Item | undefined> {
    if (this.done) {
      return undefined;
    }
    try {
      const docs = this.docs;
      this.it ??= Symbol.asyncIterator in docs ? docs[Symbol.asyncIterator]() : docs[Symbol.iterator]();
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return undefined;
      }
      const n = ++this.read;
      return { n, doc: toDocument(r.value, n - 1) };
    } catch (err) {
      this.done = this.failed = true;
      this.error = err;
      throw err;
    }
  }

  giveBack(items: Item[]): void {
    this.carry = [...this.carry, ...items].sort((a, b) => a.n - b.n);
  }

  /** Closes the input when the call ends before reading all of it. */
  close(): void {
    if (!this.done) {
      this.done = true;
      Promise.resolve(this.it?.return?.()).catch(() => undefined);
    }
  }
}

/** One stream of a stream() call: what it sent, in order, and what was answered. */
class Run {
  readonly sent: Item[] = [];
  private readonly answeredSeqs = new Set<number>();
  answered = 0;
  stopped = false;

  constructor(
    private readonly feed: Feed,
    private readonly options: TagOptionsMessage | undefined,
  ) {}

  async *requests() {
    for (let first = true; ; first = false) {
      const item = await this.feed.next(this);
      if (!item) {
        return;
      }
      // The options ride on the first request; later ones inherit them.
      yield { document: item.doc, options: first ? this.options : undefined };
    }
  }

  /** The result of r, its sequence that of the document in the input. */
  answer(r: DocumentResult | undefined): TagResult {
    const result = toResult(r);
    const k = result.sequence;
    if (k >= 1 && k <= this.sent.length && !this.answeredSeqs.has(k)) {
      this.answeredSeqs.add(k);
      this.answered++;
      result.sequence = this.sent[k - 1]!.n;
    }
    return result;
  }

  /** Ends the stream's reading; its unanswered documents go to the next one. */
  stop(): void {
    if (!this.stopped) {
      this.stopped = true;
      this.feed.giveBack(this.sent.filter((_, i) => !this.answeredSeqs.has(i + 1)));
    }
  }
}

/** The base URL of a target, and whether it is TLS. */
function baseUrl(target: string, tls: boolean): string {
  const t = target.replace(/^dns:\/\/\//, "");
  if (/^https?:\/\//.test(t)) {
    if (tls && t.startsWith("http://")) {
      throw new TypeError(`createClient: target ${target} is http:// but tls is set`);
    }
    return t.replace(/\/+$/, "");
  }
  return `${tls ? "https" : "http"}://${t}`;
}

function toDocument(doc: DocumentInput, index: number | undefined): Document {
  if (typeof doc === "string") {
    return create(DocumentSchema, { id: index === undefined ? "" : String(index), text: doc });
  }
  if (doc === null || typeof doc !== "object" || typeof doc.text !== "string") {
    throw new TypeError("a document is a string or {id?, text, title?, languageCode?} with a string text");
  }
  if (doc.title !== undefined && typeof doc.title !== "string") {
    throw new TypeError("a document's title is a string");
  }
  return create(DocumentSchema, {
    id: doc.id ?? (index === undefined ? "" : String(index)),
    text: doc.text,
    title: doc.title ?? "",
    languageCode: doc.languageCode ?? "",
  });
}

function toOptions(o: TagOptions | undefined): TagOptionsMessage | undefined {
  if (!o) {
    return undefined;
  }
  return create(TagOptionsSchema, {
    themes: o.themes ?? [],
    omitEvidence: o.omitEvidence ?? false,
    minScore: o.minScore ?? 0,
    includeUntagged: o.includeUntagged ?? false,
  });
}

function toResult(r: DocumentResult | undefined): TagResult {
  if (!r) {
    throw new DoctaggerError({ code: Code.Internal, message: "the server answered without a result" });
  }
  const result: TagResult = {
    documentId: r.documentId,
    tags: r.tags,
    untagged: r.untagged,
    rulesetVersion: r.rulesetVersion,
    words: r.words,
    sequence: Number(r.sequence),
  };
  if (r.error) {
    result.error = DoctaggerError.fromStatus(r.error, r.documentId);
  }
  return result;
}

export function createClient(options: ClientOptions): DoctaggerClient {
  if (!options || typeof options.target !== "string" || options.target === "") {
    throw new TypeError("createClient: target is required, e.g. \"127.0.0.1:9090\"");
  }
  const tlsOpts = typeof options.tls === "object" ? options.tls : undefined;
  const url = baseUrl(options.target, options.tls !== undefined && options.tls !== false);
  const nodeOptions: http2.SecureClientSessionOptions = {};
  if (tlsOpts) {
    if (tlsOpts.ca !== undefined) nodeOptions.ca = tlsOpts.ca;
    if (tlsOpts.cert !== undefined) nodeOptions.cert = tlsOpts.cert;
    if (tlsOpts.key !== undefined) nodeOptions.key = tlsOpts.key;
    if (tlsOpts.servername !== undefined) nodeOptions.servername = tlsOpts.servername;
  }
  // Our own session manager, so that close() can end the connection (an
  // open HTTP/2 session keeps the process alive).
  const sessions = new Http2SessionManager(url, {}, nodeOptions);
  const interceptors: Interceptor[] = [];
  if (options.token !== undefined) {
    const header = `Bearer ${options.token}`;
    interceptors.push((next) => (req) => {
      req.header.set("authorization", header);
      return next(req);
    });
  }
  interceptors.push(...(options.interceptors ?? []));
  const transport = createGrpcTransport({
    baseUrl: url,
    sessionManager: sessions,
    interceptors,
    ...(options.gzip ? { sendCompression: compressionGzip } : {}),
  });
  const raw = createConnectClient(TaggerService, transport);
  const unaryTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;

  /** A call's options: the time left before deadline (undefined: none). */
  const callOptions = (deadline: number | undefined, signal: AbortSignal | undefined): CallOptions => ({
    ...(deadline !== undefined ? { timeoutMs: Math.max(deadline - Date.now(), 1) } : {}),
    ...(signal ? { signal } : {}),
  });

  /**
   * The wait before trying err's call again, after retries tries: its retry
   * hint; undefined to throw err instead (no hint, out of tries, or past the
   * deadline by then).
   */
  const retryDelay = (err: DoctaggerError, retries: number, deadline: number | undefined): number | undefined => {
    const delayMs = retryHintMs(err);
    if (delayMs === undefined || retries >= maxRetries) {
      return undefined;
    }
    if (deadline !== undefined && Date.now() + delayMs >= deadline) {
      return undefined; // the answer would come too late anyway
    }
    return delayMs;
  };

  const wait = async (err: DoctaggerError, delayMs: number, signal: AbortSignal | undefined): Promise<void> => {
    options.onRetry?.(err, delayMs);
    try {
      await sleep(delayMs, undefined, signal ? { signal } : undefined);
    } catch (abort) {
      throw DoctaggerError.from(abort);
    }
  };

  /** A unary call, tried again as the server's retry hints ask. */
  const unary = async <T>(
    o: Pick<TagOptions, "timeoutMs" | "signal"> | undefined,
    call: (opts: CallOptions) => Promise<T>,
  ): Promise<T> => {
    const timeoutMs = o?.timeoutMs ?? unaryTimeout;
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
    for (let retries = 0; ; retries++) {
      let error: DoctaggerError;
      try {
        return await call(callOptions(deadline, o?.signal));
      } catch (err) {
        error = DoctaggerError.from(err);
      }
      const delayMs = retryDelay(error, retries, deadline);
      if (delayMs === undefined) {
        throw error;
      }
      await wait(error, delayMs, o?.signal);
    }
  };

  return {
    raw,

    async tag(doc, o) {
      const document = toDocument(doc, undefined);
      const res = await unary(o, (call) => raw.tagDocument({ document, options: toOptions(o) }, call));
      return toResult(res.result);
    },

    async tagBatch(docs, o) {
      const documents = Array.from(docs, (d, i) => toDocument(d, i));
      const res = await unary(o, (call) => raw.batchTagDocuments({ documents, options: toOptions(o) }, call));
      return res.results.map(toResult);
    },

    stream(docs, o) {
      const tagOptions = toOptions(o);
      return {
        async *[Symbol.asyncIterator]() {
          const feed = new Feed(docs);
          const deadline = o?.timeoutMs ? Date.now() + o.timeoutMs : undefined;
          try {
            for (let retries = 0; ; retries++) {
              const run = new Run(feed, tagOptions);
              let error: DoctaggerError;
              try {
                for await (const res of raw.streamTagDocuments(run.requests(), callOptions(deadline, o?.signal))) {
                  yield run.answer(res.result);
                }
                return;
              } catch (err) {
                if (feed.failed) {
                  throw feed.error; // the input's own error
                }
                error = DoctaggerError.from(err);
              } finally {
                run.stop(); // what it took and did not answer goes to the next stream
              }
              if (run.answered > 0) {
                retries = 0;
              }
              const delayMs = retryDelay(error, retries, deadline);
              if (delayMs === undefined) {
                throw error;
              }
              if (feed.done && feed.carry.length === 0) {
                return; // every document was answered
              }
              await wait(error, delayMs, o?.signal);
            }
          } finally {
            feed.close();
          }
        },
      };
    },

    async themes(o) {
      return (await unary(o, (call) => raw.listThemes({}, call))).themes;
    },

    async ruleset(o) {
      const r = (await unary(o, (call) => raw.getRuleset({}, call))).ruleset;
      return {
        name: r?.name ?? "",
        version: r?.version ?? "",
        source: r?.source ?? "",
        ...(r?.loadTime ? { loadTime: timestampDate(r.loadTime) } : {}),
        themeCount: r?.themeCount ?? 0,
        termCount: r?.termCount ?? 0,
        exclusionCount: r?.exclusionCount ?? 0,
      };
    },

    close() {
      sessions.abort();
    },
  };
}
