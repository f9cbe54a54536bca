package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/codec"
	"github.com/storeplatform/storeplatform/workflows"
)

func testCodec(t *testing.T) *codec.Codec {
	t.Helper()
	c, err := codec.New([]codec.Key{{ID: "test", Secret: bytes.Repeat([]byte{3}, codec.KeySize)}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// encryptedBody is a decode request: the JSON Payloads message of one
// encrypted payload holding plain.
func encryptedBody(t *testing.T, c *codec.Codec, plain string) string {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(plain)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCodecEndpoint(t *testing.T) {
	c := testCodec(t)
	other, err := codec.New([]codec.Key{{ID: "elsewhere", Secret: bytes.Repeat([]byte{4}, codec.KeySize)}})
	if err != nil {
		t.Fatal(err)
	}
	const ui = "http://127.0.0.1:8233"
	h := Router(Options{
		Stores: newFakeStores(), Temporal: nil, Codec: c, TemporalUIURL: ui + "/namespaces",
		Tokens: fakeTokens{acmeToken: {Tenant: "acme", Role: auth.RoleTenant}, adminToken: {Tenant: "ops", Role: auth.RoleAdmin}},
	})
	secret := encryptedBody(t, c, "Secret Shop")
	tests := []struct {
		name, method, path, token, origin, body string
		wantStatus                              int
		wantBody                                string // a substring of the response
		wantCORS                                bool
	}{
		{"admin decodes", http.MethodPost, "/codec/decode", adminToken, "", secret, 200, `"IlNlY3JldCBTaG9wIg=="`, false}, // base64 of "Secret Shop" as JSON
		{"admin from the Web UI", http.MethodPost, "/codec/decode", adminToken, ui, secret, 200, `"payloads"`, true},
		{"no token", http.MethodPost, "/codec/decode", "", ui, secret, 401, "unauthorized", true},
		{"invalid token", http.MethodPost, "/codec/decode", "sp_nope", "", secret, 401, "unauthorized", false},
		{"tenant token", http.MethodPost, "/codec/decode", acmeToken, "", secret, 403, "only an admin token may decode", false},
		{"not payloads", http.MethodPost, "/codec/decode", adminToken, "", `{"payloads": 3}`, 400, "not a Temporal Payloads message", false},
		{"unknown key", http.MethodPost, "/codec/decode", adminToken, "", encryptedBody(t, other, "x"), 400, `key \"elsewhere\", which is not configured`, false},
		{"encode refused", http.MethodPost, "/codec/encode", adminToken, "", `{"payloads": []}`, 403, "only decodes", false},
		{"preflight from the Web UI", http.MethodOptions, "/codec/decode", "", ui, "", 204, "", true},
		{"preflight from elsewhere", http.MethodOptions, "/codec/decode", "", "https://evil.example", "", 204, "", false},
		{"admin from another origin", http.MethodPost, "/codec/decode", adminToken, "https://evil.example", secret, 200, `"payloads"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Fatalf("%d %s; want %d with %q", rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			if rec.Code >= 400 && rec.Header().Get("Content-Type") != problemContentType {
				t.Fatalf("error answered as %q", rec.Header().Get("Content-Type"))
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); (got == ui) != tt.wantCORS || (got != "" && got != ui) {
				t.Fatalf("Access-Control-Allow-Origin %q, want it %v", got, tt.wantCORS)
			}
			if rec.Code == 200 && strings.Contains(rec.Body.String(), "binary/encrypted") {
				t.Fatalf("still encrypted: %s", rec.Body)
			}
		})
	}
}

// TestCodecEndpointOnlyWithACodec: without keys there is no codec route.
func TestCodecEndpointOnlyWithACodec(t *testing.T) {
	h := Router(Options{Stores: newFakeStores(), Tokens: fakeTokens{adminToken: {Tenant: "ops", Role: auth.RoleAdmin}}})
	req := httptest.NewRequest(http.MethodPost, "/codec/decode", strings.NewReader(`{"payloads":[]}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// TestRolloutListReadsEncryptedMemos: with payload encryption on, the
// rollouts' memos are ciphertext, read with the client's data converter.
func TestRolloutListReadsEncryptedMemos(t *testing.T) {
	c := testCodec(t)
	memo, err := c.DataConverter().ToPayload("0.4.0")
	if err != nil {
		t.Fatal(err)
	}
	if string(memo.GetMetadata()[converter.MetadataEncoding]) != codec.Encoding {
		t.Fatalf("the memo is not encrypted: %v", memo)
	}
	temporal := &mocks.Client{}
	temporal.On("ListWorkflow", mock.Anything, mock.Anything).Return(&workflowservice.ListWorkflowExecutionsResponse{
		Executions: []*workflowpb.WorkflowExecutionInfo{{
			Execution: &commonpb.WorkflowExecution{WorkflowId: workflows.RolloutWorkflowID("0.4.0-1"), RunId: "r"},
			Memo:      &commonpb.Memo{Fields: map[string]*commonpb.Payload{workflows.MemoChartVersion: memo}},
		}},
	}, nil).Once()
	h := Router(Options{
		Stores: newFakeStores(), Temporal: temporal, TaskQueue: "q", Versions: chartVersionsOfRepo(t),
		Codec: c, DataConverter: c.DataConverter(),
		Tokens: fakeTokens{adminToken: {Tenant: "ops", Role: auth.RoleAdmin}},
	})
	req := httptest.NewRequest(http.MethodGet, "/api/rollouts", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"chartVersion": "0.4.0"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	temporal.AssertExpectations(t)
}

// TestCodecEndpointIsNotRateLimitedForAdmins: the CLI and the Web UI send
// one decode per event and do not retry a 429; tenants' tokens stay
// limited.
func TestCodecEndpointIsNotRateLimitedForAdmins(t *testing.T) {
	c := testCodec(t)
	h := Router(Options{
		Stores: newFakeStores(), Codec: c, RatePerSecond: 0.001, RateBurst: 1,
		Tokens: fakeTokens{acmeToken: {Tenant: "acme", Role: auth.RoleTenant}, adminToken: {ID: "admin", Tenant: "ops", Role: auth.RoleAdmin}},
	})
	body := encryptedBody(t, c, "x")
	call := func(path, token string) int {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range 50 {
		if code := call("/codec/decode", adminToken); code != http.StatusOK {
			t.Fatalf("admin's decode %d answered %d", i, code)
		}
	}
	tenant := []int{call("/codec/decode", acmeToken), call("/codec/decode", acmeToken)}
	if tenant[0] != http.StatusForbidden || tenant[1] != http.StatusTooManyRequests {
		t.Fatalf("a tenant's two decodes answered %v, want 403 then 429", tenant)
	}
}
