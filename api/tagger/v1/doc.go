// Package taggerv1 is the doctagger API, tagger.v1: the messages and the
// gRPC service TaggerService (tagging one document, a batch, or a stream
// of documents, each result with its themes, scores and evidence), its
// REST mapping (grpc-gateway, routes in tagger_http.yaml), the OpenAPI
// documents of the REST side (OpenAPI3, OpenAPI), and the error contract:
// every error carries a google.rpc.ErrorInfo whose reason is an
// ErrorReason (NewStatus, ReasonOf, and the Meta* metadata keys).
//
// The .pb.go files are generated from tagger.proto and errors.proto by
// scripts/gen.sh; errors.go, openapi.go and this file are written by hand.
package taggerv1
