// The idiomatic client: createClient({target, token, tls}) and plain
// promises and async iterables over the generated TaggerService.

import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, createClient as createConnectClient, type CallOptions, type Client, type Interceptor } from "@connectrpc/connect";
import { compressionGzip, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type * as http2 from "node:http2";
import { DoctaggerError } from "./errors.js";
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
}

/** A document: its text alone, or with an id and a language hint. */
export type DocumentInput =
  | string
  | {
      /** Client-chosen id, echoed in the result and named in errors. */
      id?: string;
      text: string;
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
  /** Deadline of this call in milliseconds (0: none). */
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
   * failure of the stream itself throws DoctaggerError from the iteration.
   * Breaking out of the loop cancels the stream. A document given as a
   * plain string gets its index ("0", "1", ...) as id.
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
    throw new TypeError("a document is a string or {id?, text, languageCode?} with a string text");
  }
  return create(DocumentSchema, {
    id: doc.id ?? (index === undefined ? "" : String(index)),
    text: doc.text,
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

  const unaryCall = (o: Pick<TagOptions, "timeoutMs" | "signal"> | undefined): CallOptions => {
    const timeoutMs = o?.timeoutMs ?? unaryTimeout;
    return {
      ...(timeoutMs > 0 ? { timeoutMs } : {}),
      ...(o?.signal ? { signal: o.signal } : {}),
    };
  };

  return {
    raw,

    async tag(doc, o) {
      const document = toDocument(doc, undefined);
      try {
        const res = await raw.tagDocument({ document, options: toOptions(o) }, unaryCall(o));
        return toResult(res.result);
      } catch (err) {
        throw DoctaggerError.from(err);
      }
    },

    async tagBatch(docs, o) {
      const documents = Array.from(docs, (d, i) => toDocument(d, i));
      try {
        const res = await raw.batchTagDocuments({ documents, options: toOptions(o) }, unaryCall(o));
        return res.results.map(toResult);
      } catch (err) {
        throw DoctaggerError.from(err);
      }
    },

    stream(docs, o) {
      const tagOptions = toOptions(o);
      async function* requests() {
        let i = 0;
        for await (const d of docs) {
          // The options ride on the first request; later ones inherit them.
          yield { document: toDocument(d, i), options: i === 0 ? tagOptions : undefined };
          i++;
        }
      }
      const call: CallOptions = {
        ...(o?.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
        ...(o?.signal ? { signal: o.signal } : {}),
      };
      return {
        async *[Symbol.asyncIterator]() {
          try {
            for await (const res of raw.streamTagDocuments(requests(), call)) {
              yield toResult(res.result);
            }
          } catch (err) {
            throw DoctaggerError.from(err);
          }
        },
      };
    },

    async themes(o) {
      try {
        return (await raw.listThemes({}, unaryCall(o))).themes;
      } catch (err) {
        throw DoctaggerError.from(err);
      }
    },

    async ruleset(o) {
      let r;
      try {
        r = (await raw.getRuleset({}, unaryCall(o))).ruleset;
      } catch (err) {
        throw DoctaggerError.from(err);
      }
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
