package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/store"
)

// fakeAudit records entries, or fails.
type fakeAudit struct {
	mu      sync.Mutex
	entries []AuditEntry
	fail    error
}

func (a *fakeAudit) Record(_ context.Context, e AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.entries = append(a.entries, e)
	return nil
}

func credFixture(t *testing.T, audit *fakeAudit) *fixture {
	t.Helper()
	f := newFixture(t)
	kube := fake.NewClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "acme-1-credentials", Namespace: "store-acme-1"},
		Data:       map[string][]byte{"admin-password": []byte("s3cret-admin-password")},
	})
	f.handler = Router(Options{Stores: f.stores, Temporal: f.temporal, TaskQueue: "q", Kube: kube, Audit: audit,
		Tokens: fakeTokens{acmeToken: {ID: "tok-acme", Tenant: "acme", Role: auth.RoleTenant}, otherToken: {Tenant: "other", Role: auth.RoleTenant},
			adminToken: {ID: "tok-admin", Tenant: "ops", Role: auth.RoleAdmin}}})
	seed(f)
	r := f.stores.recs["acme-1"]
	r.URL = "http://acme-1.stores.localhost"
	f.stores.recs["acme-1"] = r
	return f
}

func TestGetCredentials(t *testing.T) {
	tests := []struct {
		name, store, token string
		want               int
	}{
		{"owner", "acme-1", acmeToken, 200},
		{"admin", "acme-1", adminToken, 200},
		{"other tenant", "acme-1", otherToken, 404},
		{"not ready", "acme-2", acmeToken, 409},
		{"no token", "acme-1", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			audit := &fakeAudit{}
			f := credFixture(t, audit)
			rec := f.do(t, http.MethodGet, "/api/stores/"+tt.store+"/credentials", tt.token, "")
			if rec.Code != tt.want {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if tt.want != 200 {
				problemOf(t, rec)
				if len(audit.entries) != 0 {
					t.Fatal("a refused read was audited as a read")
				}
				return
			}
			var c Credentials
			_ = json.Unmarshal(rec.Body.Bytes(), &c)
			if c.Password != "s3cret-admin-password" || c.Username != "admin" || c.LoginURL != "http://acme-1.stores.localhost/wp-admin/" {
				t.Fatalf("credentials %+v", c)
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatal("credentials may be cached")
			}
			if len(audit.entries) != 1 || audit.entries[0].Action != "read-credentials" || audit.entries[0].Store != "acme-1" {
				t.Fatalf("audit %+v", audit.entries)
			}
		})
	}
}

func TestCredentialsNotGivenWithoutAudit(t *testing.T) {
	f := credFixture(t, &fakeAudit{fail: errors.New("audit collection unavailable")})
	rec := f.do(t, http.MethodGet, "/api/stores/acme-1/credentials", acmeToken, "")
	if rec.Code != 500 || problemOf(t, rec).Type != ProblemInternal {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestMutationsAreAudited(t *testing.T) {
	audit := &fakeAudit{}
	f := credFixture(t, audit)
	f.expectStart(2)
	f.temporal.On("SignalWorkflow", mock.Anything, mock.Anything, "", mock.Anything, nil).Return(nil).Once()
	f.do(t, http.MethodPost, "/api/stores", acmeToken, wooBody)
	f.do(t, http.MethodDelete, "/api/stores/acme-1", acmeToken, "")
	f.do(t, http.MethodPost, "/api/stores/acme-2/retry", acmeToken, "")
	var actions []string
	for _, e := range audit.entries {
		actions = append(actions, e.Action+":"+e.Store+":"+e.Tenant)
	}
	want := []string{"create:shop:acme", "delete:acme-1:acme", "retry:acme-2:acme"}
	if len(actions) != 3 || actions[0] != want[0] || actions[1] != want[1] || actions[2] != want[2] {
		t.Fatalf("audit %v", actions)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	f.handler = Router(Options{Stores: f.stores, Temporal: f.temporal, TaskQueue: "q", RatePerSecond: 1, RateBurst: 3,
		Tokens: fakeTokens{acmeToken: {ID: "a", Tenant: "acme", Role: auth.RoleTenant}, otherToken: {ID: "b", Tenant: "other", Role: auth.RoleTenant}}})
	seed(f)
	for i := 0; i < 3; i++ {
		if rec := f.do(t, http.MethodGet, "/api/stores", acmeToken, ""); rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	rec := f.do(t, http.MethodGet, "/api/stores", acmeToken, "")
	if rec.Code != http.StatusTooManyRequests || problemOf(t, rec).Type != ProblemRateLimited {
		t.Fatalf("%d", rec.Code)
	}
	if s, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	// Another token has its own budget.
	if rec := f.do(t, http.MethodGet, "/api/stores", otherToken, ""); rec.Code != 200 {
		t.Fatalf("other token: %d", rec.Code)
	}
}

// TestMeCountsTheTenantsStores: /api/me says how many stores the caller's
// tenant has (deleted ones aside) and how many it may have.
func TestMeCountsTheTenantsStores(t *testing.T) {
	f := credFixture(t, &fakeAudit{})
	f.stores.recs["other-2"] = store.Record{ID: bsonID(9), Spec: store.Spec{Name: "other-2", Generation: 1}, Owner: "other", Phase: store.PhaseDeleted}
	for _, tt := range []struct {
		token        string
		count, limit int
	}{
		{acmeToken, 3, 5}, // acme-3's deletion is stuck: it still counts
		{otherToken, 1, 5},
		{adminToken, 0, 5}, // the admin's own tenant, ops, has none
	} {
		rec := f.do(t, http.MethodGet, "/api/me", tt.token, "")
		var me Me
		if err := json.Unmarshal(rec.Body.Bytes(), &me); rec.Code != 200 || err != nil {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		if me.StoreCount != tt.count || me.StoreLimit != tt.limit {
			t.Errorf("%s: %d of %d stores, want %d of %d", me.Tenant, me.StoreCount, me.StoreLimit, tt.count, tt.limit)
		}
	}
}

// TestGetKubeEvents: the owner and admins read the events of the store's
// namespace, warnings first and then the newest first; other tenants get
// 404, as for the store itself.
func TestGetKubeEvents(t *testing.T) {
	f := newFixture(t)
	at := func(min int) metav1.Time { return metav1.NewTime(time.Date(2026, 12, 1, 10, min, 0, 0, time.UTC)) }
	ev := func(name, typ, reason, pod string, last int) *corev1.Event {
		return &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "store-acme-1"}, Type: typ, Reason: reason,
			Message: reason + " of " + pod, InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: pod},
			FirstTimestamp: at(0), LastTimestamp: at(last), Count: 2,
		}
	}
	kube := fake.NewClientset(
		ev("e1", corev1.EventTypeNormal, "Scheduled", "web-1", 5),
		ev("e2", corev1.EventTypeWarning, "FailedScheduling", "web-2", 1),
		ev("e3", corev1.EventTypeNormal, "Pulled", "web-1", 7),
		ev("e4", corev1.EventTypeWarning, "BackOff", "web-1", 3),
	)
	elsewhere := ev("elsewhere", corev1.EventTypeWarning, "NotMine", "x", 9)
	elsewhere.Namespace = "store-acme-2x"
	if err := kube.Tracker().Add(elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := kube.Tracker().Add(&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "store-other-1"}, Type: corev1.EventTypeWarning, Reason: "Other"}); err != nil {
		t.Fatal(err)
	}
	f.handler = Router(Options{Stores: f.stores, Temporal: f.temporal, TaskQueue: "q", Kube: kube,
		Tokens: fakeTokens{acmeToken: {Tenant: "acme", Role: auth.RoleTenant}, otherToken: {Tenant: "other", Role: auth.RoleTenant},
			adminToken: {Tenant: "ops", Role: auth.RoleAdmin}}})
	seed(f)
	for _, tt := range []struct {
		name, store, token string
		status             int
		want               string
	}{
		{"owner", "acme-1", acmeToken, 200, "Warning/BackOff/Pod/web-1 Warning/FailedScheduling/Pod/web-2 Normal/Pulled/Pod/web-1 Normal/Scheduled/Pod/web-1"},
		{"admin", "acme-1", adminToken, 200, "Warning/BackOff/Pod/web-1 Warning/FailedScheduling/Pod/web-2 Normal/Pulled/Pod/web-1 Normal/Scheduled/Pod/web-1"},
		{"a store with no events", "acme-2", acmeToken, 200, ""},
		{"another tenant", "acme-1", otherToken, 404, ""},
		{"no store", "nope", acmeToken, 404, ""},
		{"no token", "acme-1", "", 401, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.do(t, http.MethodGet, "/api/stores/"+tt.store+"/kubernetes-events", tt.token, "")
			if rec.Code != tt.status {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if tt.status != 200 {
				problemOf(t, rec)
				return
			}
			var list KubeEventList
			if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || list.Items == nil {
				t.Fatalf("%s: %v (items must be a list, even empty)", rec.Body, err)
			}
			var got []string
			for _, e := range list.Items {
				got = append(got, e.Type+"/"+e.Reason+"/"+e.Object)
				if e.Count != 2 || !e.FirstSeen.Equal(at(0).Time) || e.Message != e.Reason+" of "+strings.TrimPrefix(e.Object, "Pod/") {
					t.Errorf("event %+v", e)
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Fatalf("events %v, want %s", got, tt.want)
			}
		})
	}
}
