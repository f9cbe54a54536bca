package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/storeplatform/storeplatform/internal/auth"
)

// codecMaxBody bounds a decode request. The Web UI sends a page of a
// history's payloads at a time, and Temporal's own limit on one payload is
// 2 MiB.
const codecMaxBody = 16 << 20

// decodePayloads is the codec server's POST /codec/decode, in the protocol
// of the Temporal Web UI and CLI (a JSON Payloads message in, the decoded
// Payloads out): it decrypts the payloads of a history for an admin. It is
// not the SDK's converter.NewPayloadCodecHTTPHandler, which answers errors
// in text/plain and also serves /encode.
func (s *server) decodePayloads(w http.ResponseWriter, r *http.Request) {
	if principal(r).Role != auth.RoleAdmin {
		fail(w, r, newProblem(ProblemForbidden, "only an admin token may decode payloads"))
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, codecMaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		fail(w, r, newProblem(ProblemTooLarge, fmt.Sprintf("the request body must be at most %d bytes", codecMaxBody)))
		return
	case err != nil:
		fail(w, r, newProblem(ProblemMalformed, "the request body could not be read"))
		return
	}
	var in commonpb.Payloads
	if err := protojson.Unmarshal(b, &in); err != nil {
		fail(w, r, newProblem(ProblemMalformed, `the request body is not a Temporal Payloads message ({"payloads": [...]})`))
		return
	}
	out, err := s.o.Codec.Decode(in.GetPayloads())
	if err != nil {
		// The codec's errors name a payload's index and key ID, never
		// key material or plaintext.
		fail(w, r, newProblem(ProblemValidation, err.Error()))
		return
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(body)
	unsent(r, err)
}

// refuseEncode answers POST /codec/encode: encrypting is for the API and
// the worker only. An encode endpoint would let a token holder make
// ciphertext that the worker takes as the platform's own; the Web UI needs
// it only to send workflow inputs and signals, which go through the API.
func (s *server) refuseEncode(w http.ResponseWriter, r *http.Request) {
	fail(w, r, newProblem(ProblemForbidden, "this codec endpoint only decodes"))
}

// codecPreflight answers the browser's CORS preflight of the Temporal Web
// UI, which calls the codec endpoint from its own origin and, with "pass
// access token" on, with an Authorization header.
func (s *server) codecPreflight(w http.ResponseWriter, r *http.Request) {
	if s.allowUIOrigin(w, r) {
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
		w.Header().Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

// withUIOrigin lets the Web UI read every answer of h, refusals included,
// so that it can show why a decode failed.
func (s *server) withUIOrigin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.allowUIOrigin(w, r)
		h.ServeHTTP(w, r)
	})
}

// allowUIOrigin lets the Temporal Web UI's origin (TemporalUIURL) read the
// response, and no other origin; it reports whether the request came from
// it.
func (s *server) allowUIOrigin(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || s.uiOrigin == "" || origin != s.uiOrigin {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	return true
}
