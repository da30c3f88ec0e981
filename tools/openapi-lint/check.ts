// Compiled (never run) by .ci/checks.d/40-openapi.sh against the types that
// openapi-typescript makes of api/tagger/v1/tagger.openapi.json (out/), so
// that what the document promises a TypeScript client stays true: the
// required fields, the colon routes without path parameters, the NDJSON
// stream's lines, the errors.
import type { components, operations, paths } from "./out/tagger";

type Schemas = components["schemas"];

// Requests: the document and its text are required, the rest optional.
export const request: Schemas["TagDocumentRequest"] = {
  document: { text: "Trí tuệ nhân tạo", id: "a1", languageCode: "vi" },
  options: { minScore: 0.5, themes: ["ai"], omitEvidence: false, includeUntagged: true },
};
// @ts-expect-error TagDocumentRequest.document is required
export const noDocument: Schemas["TagDocumentRequest"] = {};
// @ts-expect-error Document.text is required
export const noText: Schemas["Document"] = { id: "a1" };
// @ts-expect-error BatchTagDocumentsRequest.documents is required
export const noDocuments: Schemas["BatchTagDocumentsRequest"] = {};
// @ts-expect-error StreamTagDocumentsRequest.document is required
export const noStreamDocument: Schemas["StreamTagDocumentsRequest"] = {};
// @ts-expect-error unknown fields are an error (the server answers 400)
export const unknownField: Schemas["Document"] = { text: "x", language: "vi" };

// Answers: what the server always writes is not optional; int64 is a string.
export function firstOffset(r: Schemas["TagDocumentResponse"]): number {
  return r.result.tags[0].evidence[0].utf16Start + r.result.words;
}
export const sequence: Schemas["DocumentResult"]["sequence"] = "1";
export const reason: Schemas["DroppedEvidence"]["reason"] = "DROP_REASON_EXCLUDED";
export function failed(r: Schemas["DocumentResult"]): string | undefined {
  return r.error?.message; // set only when the document failed
}

// The routes with a colon (/v1/documents:tag) have no path parameter.
export const noPathParameter: paths["/v1/documents:tag"]["parameters"]["path"] = undefined;
export type TagDocument = paths["/v1/documents:tag"]["post"];
export type BatchTag = paths["/v1/documents:batchTag"]["post"];
export type ListThemes = operations["listThemes"];
export type GetRuleset = operations["getRuleset"];

// The NDJSON stream: a line in is a request, a line out a result or an error.
type Stream = operations["streamTagDocuments"];
export const line: Stream["requestBody"]["content"]["application/x-ndjson"] = { document: { text: "x" } };
export function outcome(l: Stream["responses"][200]["content"]["application/x-ndjson"]): string {
  return "error" in l ? `${l.error.code} ${l.error.message}` : l.result.documentId;
}

// Errors are a google.rpc.Status with typed details.
export const badRequest: operations["tagDocument"]["responses"][400]["content"]["application/json"] = {
  code: 3,
  message: "the batch is empty",
  details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "EMPTY_BATCH", domain: "doctagger" }],
};
export type Unauthenticated = operations["getRuleset"]["responses"][401]["headers"]["WWW-Authenticate"];
// A caller over its quota, or an overloaded server, is told when to retry.
export type QuotaExceeded = operations["tagDocument"]["responses"][429]["headers"]["Retry-After"];
export type StreamsOverQuota = operations["streamTagDocuments"]["responses"][429]["headers"]["Retry-After"];
export type Overloaded = operations["listThemes"]["responses"][503]["headers"]["Retry-After"];
export type BodyTimeout = operations["batchTagDocuments"]["responses"][408]["content"]["application/json"];
