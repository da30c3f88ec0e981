// Command openapi3 writes the OpenAPI 3.0 document of doctagger's REST API
// (api/tagger/v1/tagger.openapi.json) from the Swagger 2.0 document that
// protoc-gen-openapiv2 generates (tagger.swagger.json) and the descriptors
// of the protos. scripts/gen-openapi.sh runs it; see there.
//
// The Swagger document is converted by kin-openapi's openapi2conv, then
// given what the conversion cannot know:
//   - schema names without the generator's package prefixes (Document, not
//     v1Document; Status, not rpcStatus), and the descriptions of fields
//     whose type is a message (a $ref, whose siblings OpenAPI 3.0 ignores)
//     kept through an allOf of that $ref;
//   - operationIds from the RPC names (tagDocument);
//   - the bearer scheme (http, scheme bearer) for Swagger's apiKey in the
//     Authorization header, optional as the empty requirement beside it says;
//   - the answers' required fields: protojson with EmitDefaultValues writes
//     every field without presence (scalars, enums, lists, maps) even when
//     zero, so those are required in the schemas that only answers use;
//   - the NDJSON stream: each line of the answer is a result or a final
//     {"error": Status} (StreamError), errors before the first result too;
//   - the error answers by HTTP code, each a google.rpc.Status, and the
//     headers every route takes (Content-Encoding, Grpc-Timeout,
//     X-Request-Id).
//
// The output is deterministic: keys are sorted (the top level in the usual
// order), so CI can regenerate and diff it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// M is a JSON object.
type M = map[string]any

const (
	schemas    = "#/components/schemas/"
	responses  = "#/components/responses/"
	parameters = "#/components/parameters/"
	headers    = "#/components/headers/"

	ndjson   = "application/x-ndjson"
	jsonMIME = "application/json"

	// streamError is the schema of an NDJSON stream's error line.
	streamError = "StreamError"
)

func main() {
	swaggerPath := flag.String("swagger", "", "the Swagger 2.0 document protoc-gen-openapiv2 generated")
	descPath := flag.String("descriptors", "", "a FileDescriptorSet (binary) of the protos and their imports: buf build --as-file-descriptor-set")
	outPath := flag.String("o", "", "where to write the OpenAPI 3 document")
	flag.Parse()
	if *swaggerPath == "" || *descPath == "" || *outPath == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*swaggerPath, *descPath, *outPath); err != nil {
		fmt.Fprintln(os.Stderr, "openapi3:", err)
		os.Exit(1)
	}
}

func run(swaggerPath, descPath, outPath string) error {
	files, err := loadDescriptors(descPath)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(swaggerPath)
	if err != nil {
		return err
	}
	doc, err := convert(raw, files)
	if err != nil {
		return err
	}
	out, err := encode(doc)
	if err != nil {
		return err
	}
	if err := validate(out); err != nil {
		return fmt.Errorf("the document is not valid OpenAPI 3: %w", err)
	}
	return os.WriteFile(outPath, out, 0o644)
}

func loadDescriptors(path string) (*protoregistry.Files, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return files, nil
}

// convert turns the Swagger document into the OpenAPI 3 one.
func convert(raw []byte, files *protoregistry.Files) (M, error) {
	var swagger M
	if err := json.Unmarshal(raw, &swagger); err != nil {
		return nil, fmt.Errorf("swagger: %w", err)
	}
	defs, _ := swagger["definitions"].(M)
	types := renameDefinitions(swagger, defs, files)
	refDocs := refDescriptions(swagger["definitions"].(M))

	renamed, err := json.Marshal(swagger)
	if err != nil {
		return nil, err
	}
	var v2 openapi2.T
	if err := json.Unmarshal(renamed, &v2); err != nil {
		return nil, fmt.Errorf("swagger: %w", err)
	}
	v3, err := openapi2conv.ToV3(&v2)
	if err != nil {
		return nil, fmt.Errorf("converting to OpenAPI 3: %w", err)
	}
	b, err := json.Marshal(v3)
	if err != nil {
		return nil, err
	}
	var doc M
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}

	components := obj(doc, "components")
	schemaObjs := obj(components, "schemas")
	if _, taken := schemaObjs[streamError]; taken {
		return nil, fmt.Errorf("a proto type is named %s: rename the stream error schema in tools/openapi3", streamError)
	}
	keepRefDescriptions(schemaObjs, refDocs)
	bearer(doc)
	addComponents(components)
	if err := operations(doc); err != nil {
		return nil, err
	}
	answersRequired(doc, types)
	if len(obj(doc, "servers")) == 0 {
		doc["servers"] = []any{M{
			"url":         "/",
			"description": "The server that serves this document (taggerd's --http-addr, :8080 by default).",
		}}
	}
	return doc, nil
}

// renameDefinitions names each definition after its proto type without the
// package (Document for v1Document, Status for rpcStatus) where that name
// is unique, rewrites the references, and returns the proto type of each
// definition by its new name.
func renameDefinitions(swagger, defs M, files *protoregistry.Files) map[string]protoreflect.Descriptor {
	// protoc-gen-openapiv2's legacy names join the last components of the
	// full name, as many as make it unique plus one (v1Document,
	// rpcStatus, EvidenceInner for a nested message): a definition is the
	// proto type with one such suffix, when only one type has it.
	claims := map[string][]protoreflect.Descriptor{}
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		var add func(d protoreflect.Descriptor)
		add = func(d protoreflect.Descriptor) {
			parts := strings.Split(string(d.FullName()), ".")
			for k := 1; k <= len(parts); k++ {
				name := strings.Join(parts[len(parts)-k:], "")
				claims[name] = append(claims[name], d)
			}
			if m, ok := d.(protoreflect.MessageDescriptor); ok {
				for i := 0; i < m.Messages().Len(); i++ {
					add(m.Messages().Get(i))
				}
				for i := 0; i < m.Enums().Len(); i++ {
					add(m.Enums().Get(i))
				}
			}
		}
		for i := 0; i < f.Messages().Len(); i++ {
			add(f.Messages().Get(i))
		}
		for i := 0; i < f.Enums().Len(); i++ {
			add(f.Enums().Get(i))
		}
		return true
	})
	byLegacy := map[string]protoreflect.Descriptor{}
	for name := range defs {
		if c := claims[name]; len(c) == 1 {
			byLegacy[name] = c[0]
		}
	}

	// The new name of each definition with a proto type, unless two would
	// share it.
	wanted := map[string][]string{}
	for name := range defs {
		if d, ok := byLegacy[name]; ok {
			rel := strings.TrimPrefix(string(d.FullName()), string(d.ParentFile().Package())+".")
			simple := strings.ReplaceAll(rel, ".", "")
			wanted[simple] = append(wanted[simple], name)
		}
	}
	rename := map[string]string{}
	for simple, olds := range wanted {
		if len(olds) == 1 {
			if _, taken := defs[simple]; !taken || olds[0] == simple {
				rename[olds[0]] = simple
			}
		}
	}
	types := map[string]protoreflect.Descriptor{}
	renamed := M{}
	for name, def := range defs {
		to := name
		if n, ok := rename[name]; ok {
			to = n
		}
		renamed[to] = def
		if d, ok := byLegacy[name]; ok {
			types[to] = d
		}
	}
	swagger["definitions"] = renamed
	walk(swagger, func(m M) {
		if ref, ok := m["$ref"].(string); ok {
			if name, ok := strings.CutPrefix(ref, "#/definitions/"); ok {
				if to, ok := rename[name]; ok {
					m["$ref"] = "#/definitions/" + to
				}
			}
		}
	})
	return types
}

// refDescriptions collects the descriptions of properties that are a $ref
// (a message field): definition → property → description.
func refDescriptions(defs M) map[string]map[string]string {
	out := map[string]map[string]string{}
	for name, def := range defs {
		props, _ := def.(M)["properties"].(M)
		for prop, p := range props {
			p, _ := p.(M)
			if _, ref := p["$ref"]; ref {
				if d, _ := p["description"].(string); d != "" {
					if out[name] == nil {
						out[name] = map[string]string{}
					}
					out[name][prop] = d
				}
			}
		}
	}
	return out
}

// keepRefDescriptions gives back the descriptions that the conversion drops
// from $ref properties, as allOf: [$ref] beside the description.
func keepRefDescriptions(schemaObjs M, refDocs map[string]map[string]string) {
	for name, props := range refDocs {
		schema, _ := schemaObjs[name].(M)
		properties, _ := schema["properties"].(M)
		for prop, desc := range props {
			p, _ := properties[prop].(M)
			if ref, ok := p["$ref"].(string); ok {
				properties[prop] = M{"allOf": []any{M{"$ref": ref}}, "description": desc}
			}
		}
	}
}

// bearer turns Swagger's API key in the Authorization header, its only way
// to say "bearer token", into OpenAPI 3's http bearer scheme.
func bearer(doc M) {
	schemes := obj(obj(doc, "components"), "securitySchemes")
	for name, s := range schemes {
		s := s.(M)
		if s["type"] == "apiKey" && s["in"] == "header" && strings.EqualFold(fmt.Sprint(s["name"]), "Authorization") {
			desc, _ := s["description"].(string)
			schemes[name] = M{"type": "http", "scheme": "bearer", "description": desc}
		}
	}
}

// addComponents adds the error answers, headers and parameters that the
// operations refer to.
func addComponents(components M) {
	status := M{"$ref": schemas + "Status"}
	jsonError := func(desc string, extra M) M {
		r := M{"description": desc, "content": M{jsonMIME: M{"schema": status}}}
		maps.Copy(r, extra)
		return r
	}
	resp := obj(components, "responses")
	for name, r := range errorResponses {
		resp[name] = jsonError(r.desc, M{"headers": r.responseHeaders()})
	}

	obj(components, "schemas")[streamError] = M{
		"type":     "object",
		"required": []any{"error"},
		"properties": M{
			"error": M{
				"allOf":       []any{status},
				"description": "Why the stream ended.",
			},
		},
		"description": "The last line of an NDJSON stream that fails: after the results of the documents before the failure, or alone, with the HTTP status of the error, when it fails before its first result.",
	}

	h := obj(components, "headers")
	h["X-Request-Id"] = M{
		"description": "The request's X-Request-Id, or one the server made up (16 hex digits) when the request had none (or one over 128 bytes); it is in the server's log lines of the request.",
		"schema":      M{"type": "string"},
	}
	h["WWW-Authenticate"] = M{
		"description": `Bearer realm="doctagger".`,
		"schema":      M{"type": "string"},
	}
	h["Retry-After"] = M{
		"description": "How many seconds to wait before trying the request again, as it is (the google.rpc.RetryInfo of the Status, rounded to whole seconds, at least 1).",
		"schema":      M{"type": "integer", "minimum": 1},
	}

	p := obj(components, "parameters")
	p["Content-Encoding"] = M{
		"name":        "Content-Encoding",
		"in":          "header",
		"required":    false,
		"description": "gzip when the body is gzip-compressed (the caller compresses it; the size limits hold for it decoded); identity or none when it is not. Another encoding is 415.",
		"schema":      M{"type": "string", "enum": []any{"gzip", "identity"}},
	}
	p["Grpc-Timeout"] = M{
		"name":        "Grpc-Timeout",
		"in":          "header",
		"required":    false,
		"description": "A deadline for the call (the whole stream, for the NDJSON route): a number of at most 8 digits and a unit, H, M, S, m (milliseconds), u or n, as in 30S or 500m. When it passes the call fails with DEADLINE_EXCEEDED (504).",
		"schema":      M{"type": "string", "pattern": `^[0-9]{1,8}[HMSmun]$`},
	}
	p["X-Request-Id"] = M{
		"name":        "X-Request-Id",
		"in":          "header",
		"required":    false,
		"description": "An id for the request, up to 128 bytes, echoed in the answer and in the server's log lines; the server makes one up without it.",
		"schema":      M{"type": "string", "maxLength": 128},
	}
}

type errorResponse struct {
	code, desc string
	// withBody: only for routes with a request body.
	withBody bool
	// stream is the description for the NDJSON stream, which answers the
	// error as an NDJSON line; empty when the stream has no such answer.
	stream string
	// headers are the components/headers the answer has besides
	// X-Request-Id.
	headers []string
}

// responseHeaders are the answer's headers, as references.
func (r errorResponse) responseHeaders() M {
	h := M{"X-Request-Id": M{"$ref": headers + "X-Request-Id"}}
	for _, name := range r.headers {
		h[name] = M{"$ref": headers + name}
	}
	return h
}

// errorResponses are the error answers by component name. Each is a
// google.rpc.Status; the server maps gRPC codes to HTTP as grpc-gateway
// does (internal/gateway's httpStatus), except RESOURCE_EXHAUSTED, 413 (a
// size limit) or 429 (QUOTA_EXCEEDED), an unsupported Content-Encoding,
// 415, and a body that did not come in time, 408.
var errorResponses = map[string]errorResponse{
	"BadRequest": {"400",
		"INVALID_ARGUMENT: a malformed body (bad JSON, an unknown field, a field of the wrong type, gzip that is not), a request without its document, an empty batch or one over the server's limit (--max-batch-documents, 256 by default), an unknown theme, a minScore outside [0, 1], invalid UTF-8 in TagDocument's document. The google.rpc.ErrorInfo reason says which (MALFORMED_BODY, MISSING_DOCUMENT, EMPTY_BATCH, BATCH_TOO_LARGE, UNKNOWN_THEME, INVALID_MIN_SCORE, INVALID_UTF8, …) and a google.rpc.BadRequest field violation names the field.",
		true,
		"INVALID_ARGUMENT before the first result: the first line is not a valid request, or too long (MALFORMED_LINE, naming the line), or the body is not the gzip its Content-Encoding says.",
		nil},
	"Unauthenticated": {"401",
		"UNAUTHENTICATED: the server has tokens and the request has none, or a wrong one, in its Authorization header. It is checked before the body is read.",
		false,
		"UNAUTHENTICATED: the server has tokens and the request has none, or a wrong one, in its Authorization header. It is checked before the body is read.",
		[]string{"WWW-Authenticate"}},
	"RequestTimeout": {"408",
		"DEADLINE_EXCEEDED (BODY_TIMEOUT): the request body did not come in time: no byte of it for --stream-idle-timeout, or not all of it within --rest-body-timeout.",
		true, "", nil},
	"PayloadTooLarge": {"413",
		"RESOURCE_EXHAUSTED: the body (as decoded) is over --max-message-bytes and an eighth, or its message over --max-message-bytes (REQUEST_TOO_LARGE); the gzip body inflates more than 100 times beyond its first MiB (DECOMPRESSION_BOMB); or the results together are over --max-message-bytes (RESULT_TOO_LARGE: ask with omitEvidence, or send fewer documents).",
		true,
		"RESOURCE_EXHAUSTED (DECOMPRESSION_BOMB) before the first result: the gzip body inflates more than 100 times beyond its first MiB. (A line over --max-message-bytes fails alone: a result with its error, REQUEST_TOO_LARGE.)",
		nil},
	"UnsupportedMediaType": {"415",
		"INVALID_ARGUMENT (UNSUPPORTED_CONTENT_ENCODING): a Content-Encoding other than gzip or identity.",
		true,
		"INVALID_ARGUMENT (UNSUPPORTED_CONTENT_ENCODING): a Content-Encoding other than gzip or identity.",
		nil},
	// Only the routes that tag documents (those with a body) count
	// against a quota.
	"TooManyRequests": {"429",
		"RESOURCE_EXHAUSTED (QUOTA_EXCEEDED): the caller is over its quota of documents a second (taggerd's --quota-documents-per-second, or its line in --quota-file); the ErrorInfo names the caller and the limit. Retry the same request after Retry-After (the Status's google.rpc.RetryInfo); other callers are not affected.",
		true,
		"RESOURCE_EXHAUSTED (QUOTA_EXCEEDED) before the first result: the caller has as many streams open as its quota allows (--quota-streams, or its line in --quota-file). Retry after Retry-After (the Status's google.rpc.RetryInfo); a stream over the documents-per-second rate is slowed down, not refused.",
		[]string{"Retry-After"}},
	"Unavailable": {"503",
		"UNAVAILABLE: the server is shutting down (retry on another instance), or holding as much as it may (OVERLOADED: --max-inflight-calls, --max-inflight-bytes; retry after Retry-After, the Status's google.rpc.RetryInfo, on this or another instance).",
		false,
		"UNAVAILABLE before the first result: the server is shutting down (retry on another instance), or holding as much as it may (OVERLOADED: --max-inflight-calls, --max-inflight-bytes; retry after Retry-After, the Status's google.rpc.RetryInfo). A stream shed after results ends with the same error line, its message naming the documents answered.",
		[]string{"Retry-After"}},
	"DeadlineExceeded": {"504",
		"DEADLINE_EXCEEDED: the call's deadline (Grpc-Timeout) passed.",
		false,
		"DEADLINE_EXCEEDED before the first result: the stream's deadline (Grpc-Timeout) passed.",
		nil},
	"Error": {"default",
		"Another error, with the HTTP code of its gRPC code as grpc-gateway maps them (CANCELLED 499, INTERNAL 500, …).",
		false,
		"Another error before the first result, with the HTTP code of its gRPC code as grpc-gateway maps them (CANCELLED 499, INTERNAL 500, …).",
		nil},
}

// operations fixes each operation: operationId, summary, headers, answers.
func operations(doc M) error {
	seen := map[string]string{}
	for path, item := range obj(doc, "paths") {
		for method, op := range item.(M) {
			op, ok := op.(M)
			if !ok {
				continue
			}
			id, _ := op["operationId"].(string)
			if i := strings.LastIndex(id, "_"); i >= 0 {
				id = id[i+1:] // TaggerService_TagDocument → TagDocument
			}
			id = lowerFirst(id)
			if other, dup := seen[id]; dup {
				return fmt.Errorf("operationId %s for %s %s and %s", id, method, path, other)
			}
			seen[id] = method + " " + path
			op["operationId"] = id
			splitSummary(op)

			body, hasBody := op["requestBody"].(M)
			if hasBody {
				delete(body, "x-originalParamName")
			}
			stream := hasBody && obj(body, "content")[ndjson] != nil

			params, _ := op["parameters"].([]any)
			if hasBody {
				params = append(params, M{"$ref": parameters + "Content-Encoding"})
			}
			params = append(params, M{"$ref": parameters + "Grpc-Timeout"}, M{"$ref": parameters + "X-Request-Id"})
			op["parameters"] = params

			resps := obj(op, "responses")
			delete(resps, "default")
			for code, r := range resps {
				if strings.HasPrefix(code, "2") {
					obj(r.(M), "headers")["X-Request-Id"] = M{"$ref": headers + "X-Request-Id"}
				}
			}
			if stream {
				ok := obj(obj(obj(resps, "200"), "content"), ndjson)
				ok["schema"] = M{"oneOf": []any{ok["schema"], M{"$ref": schemas + streamError}}}
			}
			for name, r := range errorResponses {
				if r.withBody && !hasBody || stream && r.stream == "" {
					continue
				}
				if !stream {
					resps[r.code] = M{"$ref": responses + name}
					continue
				}
				// The stream's errors are an NDJSON error line.
				resps[r.code] = M{
					"description": r.stream + ` One NDJSON line {"error": Status}; the same line ends a stream that fails after results were written, with HTTP status 200.`,
					"headers":     r.responseHeaders(),
					"content":     M{ndjson: M{"schema": M{"$ref": schemas + streamError}}},
				}
			}
		}
	}
	return nil
}

var firstSentence = regexp.MustCompile(`^(.*?\.)(\s|$)`)

// splitSummary keeps the first sentence of the RPC's comment as the summary
// and puts the whole comment at the head of the description.
func splitSummary(op M) {
	summary, _ := op["summary"].(string)
	joined := strings.Join(strings.Fields(summary), " ")
	m := firstSentence.FindStringSubmatch(joined)
	if m == nil || m[1] == joined {
		op["summary"] = joined
		return
	}
	op["summary"] = m[1]
	desc := summary
	if d, _ := op["description"].(string); d != "" {
		desc += "\n\n" + d
	}
	op["description"] = desc
}

// answersRequired marks as required, in the schemas that only answers use,
// the fields that protojson writes even when zero.
func answersRequired(doc M, types map[string]protoreflect.Descriptor) {
	schemaObjs := obj(obj(doc, "components"), "schemas")
	inRequests, inAnswers := map[string]bool{}, map[string]bool{}
	var reach func(v any, set map[string]bool)
	reach = func(v any, set map[string]bool) {
		walk(v, func(m M) {
			ref, _ := m["$ref"].(string)
			name, ok := strings.CutPrefix(ref, schemas)
			if ok && !set[name] {
				set[name] = true
				reach(schemaObjs[name], set)
			}
		})
	}
	for _, item := range obj(doc, "paths") {
		for _, op := range item.(M) {
			op, ok := op.(M)
			if !ok {
				continue
			}
			reach(op["requestBody"], inRequests)
			reach(op["parameters"], inRequests)
			reach(op["responses"], inAnswers)
		}
	}
	reach(obj(obj(doc, "components"), "responses"), inAnswers)

	for name := range inAnswers {
		md, ok := types[name].(protoreflect.MessageDescriptor)
		if !ok || inRequests[name] || strings.HasPrefix(string(md.FullName()), "google.") {
			continue // WKTs have JSON mappings of their own
		}
		schema := obj(schemaObjs, name)
		props := obj(schema, "properties")
		required := map[string]bool{}
		for _, r := range asSlice(schema["required"]) {
			required[r.(string)] = true
		}
		for i := 0; i < md.Fields().Len(); i++ {
			f := md.Fields().Get(i)
			if f.IsList() || f.IsMap() || !f.HasPresence() {
				if _, ok := props[f.JSONName()]; ok {
					required[f.JSONName()] = true
				}
			}
		}
		// In field order, then any others by name.
		var list []any
		for i := 0; i < md.Fields().Len(); i++ {
			if n := md.Fields().Get(i).JSONName(); required[n] {
				list = append(list, n)
				delete(required, n)
			}
		}
		for _, n := range slices.Sorted(maps.Keys(required)) {
			list = append(list, n)
		}
		if len(list) > 0 {
			schema["required"] = list
		}
	}
}

// walk calls f on every object in v, depth first.
func walk(v any, f func(M)) {
	switch v := v.(type) {
	case M:
		f(v)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			walk(v[k], f)
		}
	case []any:
		for _, e := range v {
			walk(e, f)
		}
	}
}

// obj returns m[key] as an object, adding an empty one when it is missing.
func obj(m M, key string) M {
	if v, ok := m[key].(M); ok {
		return v
	}
	v := M{}
	m[key] = v
	return v
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func lowerFirst(s string) string {
	for i, r := range s {
		return string(unicode.ToLower(r)) + s[i+len(string(r)):]
	}
	return s
}

// topLevel is the order of the document's first keys; the rest, and every
// key below, are sorted.
var topLevel = []string{"openapi", "info", "externalDocs", "servers", "security", "tags", "paths", "components"}

// encode writes the document as indented JSON with sorted keys, without
// escaping <, > and &.
func encode(doc M) ([]byte, error) {
	keys := slices.Sorted(maps.Keys(doc))
	sort.SliceStable(keys, func(i, j int) bool { return rank(keys[i]) < rank(keys[j]) })
	var buf bytes.Buffer
	buf.WriteString("{\n")
	for i, k := range keys {
		var v bytes.Buffer
		enc := json.NewEncoder(&v)
		enc.SetEscapeHTML(false)
		enc.SetIndent("  ", "  ")
		if err := enc.Encode(doc[k]); err != nil {
			return nil, err
		}
		name, _ := json.Marshal(k)
		fmt.Fprintf(&buf, "  %s: %s", name, bytes.TrimRight(v.Bytes(), "\n"))
		if i < len(keys)-1 {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
	}
	buf.WriteString("}\n")
	return buf.Bytes(), nil
}

func rank(k string) int {
	if i := slices.Index(topLevel, k); i >= 0 {
		return i
	}
	return len(topLevel)
}

// validate loads the document as kin-openapi reads it and validates it.
func validate(b []byte) error {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		return err
	}
	return doc.Validate(context.Background())
}
