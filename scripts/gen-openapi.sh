#!/usr/bin/env bash
# Writes api/tagger/v1/tagger.openapi.json, the OpenAPI 3.0 document of the
# REST API, from the Swagger 2.0 document that buf generated beside it
# (protoc-gen-openapiv2, options in api/tagger/v1/tagger_openapi.yaml) and
# the protos' descriptors: tools/openapi3 converts it with kin-openapi and
# adds what Swagger 2 cannot say (bearer auth, the NDJSON stream, required
# answer fields, error answers). scripts/gen.sh runs it after buf generate;
# offline once the tools module's dependencies are in the module cache.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go tool -modfile=tools/go.mod buf build --path api/tagger --as-file-descriptor-set -o "$tmp/descriptors.binpb"
(cd tools && go run ./openapi3 \
  -swagger ../api/tagger/v1/tagger.swagger.json \
  -descriptors "$tmp/descriptors.binpb" \
  -o ../api/tagger/v1/tagger.openapi.json)
