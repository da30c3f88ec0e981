package taggerv1

import _ "embed" // for OpenAPI

// Regenerate with scripts/gen.sh from the repository root (offline).
//go:generate ../../../scripts/gen.sh

// OpenAPI is the OpenAPI v2 document generated from tagger.proto and
// tagger_http.yaml; taggerd serves it at /openapi.json.
//
//go:embed tagger.swagger.json
var OpenAPI []byte
