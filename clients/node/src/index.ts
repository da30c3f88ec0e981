// @doctagger/client: a Node client for doctagger's gRPC API
// (tagger.v1.TaggerService), generated from the protos (src/gen) with an
// idiomatic helper on top.

export {
  createClient,
  type ClientOptions,
  type DocumentInput,
  type DoctaggerClient,
  type RulesetInfo,
  type TagOptions,
  type TagResult,
  type TlsOptions,
} from "./client.js";
export {
  Code,
  codeName,
  DoctaggerError,
  ERROR_DOMAIN,
  MAX_RETRY_DELAY_MS,
  retryHintMs,
  type FieldViolation,
} from "./errors.js";
export type {
  DroppedEvidence,
  Evidence,
  Tag,
  Theme,
} from "./gen/tagger/v1/tagger_pb.js";
export { DropReason, TaggerService } from "./gen/tagger/v1/tagger_pb.js";
export { ErrorReason } from "./gen/tagger/v1/errors_pb.js";
