// Package fuzzhttp is a bounded, seeded HTTP fuzzer for the Store Platform
// API (issue #12). It reads the operations from the API's own OpenAPI
// description (which TestOpenAPICoversEveryRoute keeps in step with the
// router, so the list cannot drift), generates requests that are mostly
// wrong in some way, sends them, and judges every answer by rules that
// hold whatever the request:
//
//   - no 5xx, and no connection closed without an answer (a panic);
//   - no 3xx for a path under /api;
//   - every 4xx is an application/problem+json object with its status;
//   - a tenant's token never sees another tenant's store names or owner
//     name, unless the request carried the name itself and was refused.
//
// The requests: the routes' own methods and others (HEAD, TRACE, made-up
// ones); the routes' paths with plausible parameters (every tenant's store
// names), garbage ones (..%2F..%2Fetc%2Fpasswd, %2e%2e, overlong and broken
// UTF-8, control bytes, 60 KB segments, walks from one tenant's store to
// another's) and made-up paths under /api; query parameters in and out of
// range; bodies built from the operation's JSON schema, the same broken in
// one to three ways (missing, unknown, duplicate or wrongly typed fields,
// huge numbers, lone surrogates), JSON of random shapes, nesting up to a
// million levels, sizes around 64 KiB and up to 3 MiB, and bodies that are
// not JSON at all; right and wrong Content-Types; and the tenants' tokens,
// a revoked one, malformed and made-up ones, or none.
//
// Request i of a run depends only on the seed and i, so a finding is
// reproduced by its seed and index. The answers depend on the state the
// run has built (stores created, deleted, suspended), which depends on the
// order the workers send in.
//
// The package deliberately does not know what the correct answer to any
// particular request is: that is the handlers' own tests' job.
//
// # Running it
//
// TestFuzzAPI (api_integration_test.go) runs it against the API served over
// HTTP with a worker, on the real local stack (internal/testenv). It is
// skipped under go test -short; `make test` runs it with 1000 requests;
// `make fuzz-api` with 10000 and FUZZ_STRICT=1. Settings, from the
// environment:
//
//	FUZZ_REQUESTS  requests to send (default 1000; make fuzz-api: 10000)
//	FUZZ_SEED      the seed (default: the clock; every run logs its own)
//	FUZZ_ONLY      send only these request indices (e.g. 17,4031), to
//	               reproduce findings of a seed
//	FUZZ_WORKERS   requests in flight (default 4)
//	FUZZ_STRICT=1  every figure must be 0, the test's knownFindings
//	               included (make fuzz-api sets it)
//
// For example, to repeat a run of make fuzz-api:
//
//	make fuzz-api FUZZ_SEED=1764331200123456789
//
// or to send two of its requests again:
//
//	FUZZ_SEED=1764331200123456789 FUZZ_ONLY=17,4031 go test -run TestFuzzAPI -v ./internal/fuzzhttp/
package fuzzhttp
