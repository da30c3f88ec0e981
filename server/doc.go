// Package server runs the doctagger service: it puts together, on one
// gRPC port and one HTTP port, the tagging service (internal/service), its
// REST side (internal/gateway), the interceptors every call goes through
// (internal/middleware) and the lenient wire codec (internal/wire), with
// health, reflection, metrics, TLS, bearer tokens, rule reloading and a
// graceful shutdown that loses no result. taggerd is its command.
//
//	srv, err := server.New(server.DefaultConfig())
//	if err != nil { ... }
//	err = srv.Run(ctx) // returns after a graceful shutdown once ctx ends
package server
