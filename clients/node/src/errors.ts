// DoctaggerError: one error type for a failed call and for a failed document
// of a batch or stream, built from the google.rpc rich status the server
// sends (ErrorInfo and BadRequest details).

import { anyIs, anyUnpack } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  RetryInfoSchema,
  type BadRequest,
  type ErrorInfo,
  type RetryInfo,
} from "./gen/google/rpc/error_details_pb.js";
import type { Status } from "./gen/google/rpc/status_pb.js";

export { Code };

/** The domain of doctagger's ErrorInfo reasons. */
export const ERROR_DOMAIN = "doctagger";

/** The longest wait a retry hint may ask the client for: 30 s. */
export const MAX_RETRY_DELAY_MS = 30_000;

/** One field at fault, from google.rpc.BadRequest. */
export interface FieldViolation {
  /** Path of the field in the request, e.g. "documents[2].text". */
  field: string;
  /** Why it is at fault. */
  description: string;
  /** The field-level reason, when the server gives one. */
  reason?: string;
}

/** The gRPC code names ("INVALID_ARGUMENT"), indexed by code. */
const CODE_NAMES: readonly string[] = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** The gRPC name of a status code: codeName(16) is "UNAUTHENTICATED". */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `CODE_${code}`;
}

interface ErrorParts {
  code: Code;
  message: string;
  errorInfo?: ErrorInfo;
  badRequest?: BadRequest;
  retryInfo?: RetryInfo;
  documentId?: string;
  cause?: unknown;
}

/**
 * The error of a call (thrown) or of one document of a batch or stream
 * (TagResult.error). Match on `code` and `reason`, never on the message.
 */
export class DoctaggerError extends Error {
  override readonly name = "DoctaggerError";
  /** The gRPC status code (Connect's Code has the same numbers). */
  readonly code: Code;
  /** The code's gRPC name, e.g. "INVALID_ARGUMENT", "UNAUTHENTICATED". */
  readonly codeName: string;
  /** The server's message alone (`message` is prefixed with the code name). */
  readonly rawMessage: string;
  /**
   * google.rpc.ErrorInfo's reason: a tagger.v1.ErrorReason value name such as
   * "DOCUMENT_TOO_LARGE" or "UNKNOWN_THEME"; undefined when the server sent
   * no ErrorInfo (authentication failures, transport errors).
   */
  readonly reason?: string;
  /** google.rpc.ErrorInfo's domain ("doctagger"). */
  readonly domain?: string;
  /** google.rpc.ErrorInfo's metadata, e.g. {bytes: "2000", limit: "1024"}. */
  readonly metadata: Readonly<Record<string, string>>;
  /** google.rpc.BadRequest's field violations, in order. */
  readonly fieldViolations: readonly FieldViolation[];
  /** For a failed document: its id. */
  readonly documentId?: string;
  /**
   * google.rpc.RetryInfo's delay in milliseconds: how long the server asks
   * the caller to wait before trying again. Sent with RESOURCE_EXHAUSTED
   * QUOTA_EXCEEDED (over the caller's quota) and UNAVAILABLE OVERLOADED
   * (load shed); the client has already waited and retried (`maxRetries`)
   * before throwing it. undefined without a RetryInfo.
   */
  readonly retryDelayMs?: number;

  constructor(parts: ErrorParts) {
    const name = codeName(parts.code);
    super(`[${name}] ${parts.message}`, parts.cause === undefined ? undefined : { cause: parts.cause });
    this.code = parts.code;
    this.codeName = name;
    this.rawMessage = parts.message;
    this.reason = parts.errorInfo?.reason || undefined;
    this.domain = parts.errorInfo?.domain || undefined;
    this.metadata = { ...(parts.errorInfo?.metadata ?? {}) };
    this.fieldViolations = (parts.badRequest?.fieldViolations ?? []).map((v) => ({
      field: v.field,
      description: v.description,
      ...(v.reason ? { reason: v.reason } : {}),
    }));
    this.documentId = parts.documentId ?? this.metadata["documentId"];
    const d = parts.retryInfo?.retryDelay;
    if (d) {
      this.retryDelayMs = Math.max(Number(d.seconds) * 1000 + d.nanos / 1e6, 0);
    }
  }

  /**
   * Wraps whatever a call threw: a ConnectError (its details decoded from the
   * grpc-status-details-bin trailer), an AbortError, anything else.
   */
  static from(err: unknown): DoctaggerError {
    if (err instanceof DoctaggerError) {
      return err;
    }
    const ce = ConnectError.from(err);
    return new DoctaggerError({
      code: ce.code,
      message: ce.rawMessage,
      errorInfo: ce.findDetails(ErrorInfoSchema)[0],
      badRequest: ce.findDetails(BadRequestSchema)[0],
      retryInfo: ce.findDetails(RetryInfoSchema)[0],
      cause: err,
    });
  }

  /** Builds the error of one document from its DocumentResult.error. */
  static fromStatus(status: Status, documentId?: string): DoctaggerError {
    let errorInfo: ErrorInfo | undefined;
    let badRequest: BadRequest | undefined;
    let retryInfo: RetryInfo | undefined;
    for (const detail of status.details) {
      if (!errorInfo && anyIs(detail, ErrorInfoSchema)) {
        errorInfo = anyUnpack(detail, ErrorInfoSchema);
      } else if (!badRequest && anyIs(detail, BadRequestSchema)) {
        badRequest = anyUnpack(detail, BadRequestSchema);
      } else if (!retryInfo && anyIs(detail, RetryInfoSchema)) {
        retryInfo = anyUnpack(detail, RetryInfoSchema);
      }
    }
    return new DoctaggerError({
      code: status.code as Code,
      message: status.message,
      errorInfo,
      badRequest,
      retryInfo,
      documentId: documentId || undefined,
    });
  }

  /** A plain object for logs and JSON.stringify. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      codeName: this.codeName,
      message: this.rawMessage,
      reason: this.reason,
      domain: this.domain,
      metadata: this.metadata,
      fieldViolations: this.fieldViolations,
      documentId: this.documentId,
      retryDelayMs: this.retryDelayMs,
    };
  }
}

/**
 * The wait, in milliseconds, before err's call may succeed when tried again:
 * its retryDelayMs, at most MAX_RETRY_DELAY_MS, for RESOURCE_EXHAUSTED
 * QUOTA_EXCEEDED and UNAVAILABLE OVERLOADED; undefined for any other error
 * (one that waiting would not fix, or not by a known time). The client
 * retries these itself; this is for your own loops.
 */
export function retryHintMs(err: unknown): number | undefined {
  if (!(err instanceof DoctaggerError) || err.retryDelayMs === undefined) {
    return undefined;
  }
  const retryable =
    (err.code === Code.ResourceExhausted && err.reason === "QUOTA_EXCEEDED") ||
    (err.code === Code.Unavailable && err.reason === "OVERLOADED");
  return retryable ? Math.min(err.retryDelayMs, MAX_RETRY_DELAY_MS) : undefined;
}
