package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func decodeBody(contentType, body string) (CreateStoreRequest, *Problem) {
	r := httptest.NewRequest(http.MethodPost, "/api/stores", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return decodeCreateStore(httptest.NewRecorder(), r)
}

func TestDecodeCreateStore(t *testing.T) {
	long := `{"name":"shop","engine":"woocommerce","title":"` + strings.Repeat("x", 70<<10) + `"}`
	tests := []struct {
		name       string
		ct, body   string
		wantStatus int    // 0: valid
		wantType   string // problem type
		wantField  string // a field named in Errors
		wantMsg    string
	}{
		{"valid woocommerce", "application/json", `{"name":"shop","engine":"woocommerce","title":"My Shop","adminEmail":"a@b.co"}`, 0, "", "", ""},
		{"valid medusa", "application/json; charset=utf-8", `{"name":"m-shop","engine":"medusa","medusaImage":"ghcr.io/acme/medusa:1.2.3"}`, 0, "", "", ""},
		{"not json media type", "text/plain", `{"name":"shop","engine":"woocommerce"}`, 415, ProblemUnsupportedMedia, "", ""},
		{"no media type", "", `{"name":"shop","engine":"woocommerce"}`, 415, ProblemUnsupportedMedia, "", ""},
		{"too large", "application/json", long, 413, ProblemTooLarge, "", ""},
		{"empty body", "application/json", ``, 400, ProblemMalformed, "", ""},
		{"broken json", "application/json", `{"name":`, 400, ProblemMalformed, "", ""},
		{"two objects", "application/json", `{"name":"shop","engine":"woocommerce"}{}`, 400, ProblemMalformed, "", ""},
		{"array", "application/json", `[]`, 400, ProblemValidation, "(body)", ""},
		{"unknown field", "application/json", `{"name":"shop","engine":"woocommerce","color":"red"}`, 400, ProblemValidation, "color", "is not a known field"},
		{"wrong type", "application/json", `{"name":42,"engine":"woocommerce"}`, 400, ProblemValidation, "name", "must be a string"},
		{"missing name", "application/json", `{"engine":"woocommerce"}`, 400, ProblemValidation, "name", MsgNameRequired},
		{"name too short", "application/json", `{"name":"ab","engine":"woocommerce"}`, 400, ProblemValidation, "name", MsgNameFormat},
		{"name too long", "application/json", `{"name":"` + strings.Repeat("a", 41) + `","engine":"woocommerce"}`, 400, ProblemValidation, "name", MsgNameFormat},
		{"name uppercase", "application/json", `{"name":"Shop","engine":"woocommerce"}`, 400, ProblemValidation, "name", MsgNameFormat},
		{"name trailing hyphen", "application/json", `{"name":"shop-","engine":"woocommerce"}`, 400, ProblemValidation, "name", MsgNameFormat},
		{"name reserved", "application/json", `{"name":"default","engine":"woocommerce"}`, 400, ProblemValidation, "name", MsgNameReserved},
		{"name kube-", "application/json", `{"name":"kube-shop","engine":"woocommerce"}`, 400, ProblemValidation, "name", MsgNameReserved},
		{"name of the platform's namespace", "application/json", `{"name":"platform","engine":"woocommerce"}`, 400, ProblemValidation, "name", MsgNameReserved},
		{"unknown engine", "application/json", `{"name":"shop","engine":"magento"}`, 400, ProblemValidation, "engine", MsgEngine},
		{"medusa without image", "application/json", `{"name":"shop","engine":"medusa"}`, 400, ProblemValidation, "medusaImage", MsgMedusaImage},
		{"medusa latest", "application/json", `{"name":"shop","engine":"medusa","medusaImage":"acme/medusa:latest"}`, 400, ProblemValidation, "medusaImage", MsgMedusaImageForm},
		{"woocommerce with image", "application/json", `{"name":"shop","engine":"woocommerce","medusaImage":"a/b:1"}`, 400, ProblemValidation, "medusaImage", MsgMedusaImageWoo},
		{"bad email", "application/json", `{"name":"shop","engine":"woocommerce","adminEmail":"nope"}`, 400, ProblemValidation, "adminEmail", MsgEmail},
		{"bad host", "application/json", `{"name":"shop","engine":"woocommerce","host":"https://shop"}`, 400, ProblemValidation, "host", MsgHost},
		{"bad size", "application/json", `{"name":"shop","engine":"woocommerce","size":"huge"}`, 400, ProblemValidation, "size", MsgSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := decodeBody(tt.ct, tt.body)
			if tt.wantStatus == 0 {
				if p != nil {
					t.Fatalf("unexpected problem %+v", p)
				}
				return
			}
			if p == nil || p.Status != tt.wantStatus || p.Type != tt.wantType {
				t.Fatalf("want %d %s, got %+v", tt.wantStatus, tt.wantType, p)
			}
			if tt.wantField == "" {
				return
			}
			for _, fe := range p.Errors {
				if fe.Field == tt.wantField && (tt.wantMsg == "" || fe.Message == tt.wantMsg) {
					return
				}
			}
			t.Fatalf("no error %q on %s in %+v", tt.wantMsg, tt.wantField, p.Errors)
		})
	}
}

func TestWriteProblem(t *testing.T) {
	rec := httptest.NewRecorder()
	writeProblem(rec, httptest.NewRequest(http.MethodGet, "/", nil), &Problem{Type: ProblemValidation, Title: "Invalid request", Status: 400, Errors: []FieldError{{"name", MsgNameRequired}}})
	if rec.Code != 400 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var p map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "title", "status", "errors"} {
		if _, ok := p[k]; !ok {
			t.Errorf("problem body lacks %q", k)
		}
	}
}

// FuzzDecodeCreateStore: no body, whatever its bytes, makes the decoder
// panic or answer anything but a 4xx problem; and what it accepts is valid.
func FuzzDecodeCreateStore(f *testing.F) {
	for _, seed := range []string{
		`{"name":"shop","engine":"woocommerce"}`,
		`{"name":"m-shop","engine":"medusa","medusaImage":"ghcr.io/acme/medusa@sha256:` + strings.Repeat("a", 64) + `"}`,
		`{"name":"shop","engine":"woocommerce","title":"\u0000\ud800","adminEmail":"a@b.c","host":"x.y","size":"small"}`,
		`{"name":null,"engine":[1,2]}`, `{}`, `[]`, `null`, `"x"`, `{"name":"shop"`, "\xff\xfe", `{"name":"shop","name":"other","engine":"medusa"}`,
		`{"name":1e400}`, `{"name":"` + strings.Repeat("a", 100) + `"}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, p := decodeBody("application/json", body)
		if p != nil {
			if p.Status < 400 || p.Status > 499 || p.Type == "" || p.Title == "" {
				t.Fatalf("problem %+v for %q", p, body)
			}
			return
		}
		if errs := req.Validate(); len(errs) > 0 {
			t.Fatalf("accepted an invalid request %+v: %v", req, errs)
		}
		if ValidateName(req.Name) != "" || (req.Engine != "woocommerce" && req.Engine != "medusa") {
			t.Fatalf("accepted %+v", req)
		}
	})
}

// BenchmarkDecodeCreateStore measures decoding and validating one create
// request, the API's per-request parsing cost.
func BenchmarkDecodeCreateStore(b *testing.B) {
	body := `{"name":"m-shop","engine":"medusa","title":"Shop","adminEmail":"a@b.co","medusaImage":"ghcr.io/acme/medusa:1.2.3"}`
	b.ReportAllocs()
	for b.Loop() {
		if _, p := decodeBody("application/json", body); p != nil {
			b.Fatal(p)
		}
	}
}
