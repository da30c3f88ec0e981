package taggerv1

import _ "embed" // for OpenAPI and OpenAPI3

// Regenerate with scripts/gen.sh from the repository root (offline).
//go:generate ../../../scripts/gen.sh

// OpenAPI is the Swagger 2.0 (OpenAPI v2) document that protoc-gen-openapiv2
// generates from tagger.proto, tagger_http.yaml and tagger_openapi.yaml.
//
//go:embed tagger.swagger.json
var OpenAPI []byte

// OpenAPI3 is the OpenAPI 3.0 document of the REST API, made from OpenAPI
// by scripts/gen-openapi.sh (tools/openapi3): bearer authentication, the
// NDJSON stream's media type, required fields, error answers by HTTP code.
// It is the one to give to client generators.
//
//go:embed tagger.openapi.json
var OpenAPI3 []byte
