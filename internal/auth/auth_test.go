package auth_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/testenv"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func TestTokenLifecycle(t *testing.T) {
	env.Require(t)
	db := env.Mongo.Database(fmt.Sprintf("auth_%d", time.Now().UnixNano()))
	s := auth.NewMongoTokens(db)
	for i := 0; i < 2; i++ {
		if err := s.EnsureIndexes(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	plain, tok, err := s.Create(t.Context(), "acme", auth.RoleTenant, "ci", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, "sp_") || len(plain) < 40 {
		t.Fatalf("token %q", plain)
	}
	// Only the hash is stored.
	raw, err := db.Collection("tokens").FindOne(t.Context(), map[string]any{}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw.String(), plain) || strings.Contains(raw.String(), plain[3:]) {
		t.Fatal("the token is stored in clear")
	}
	got, err := s.Verify(t.Context(), plain)
	if err != nil || got.Tenant != "acme" || got.Role != auth.RoleTenant || got.ID != tok.ID {
		t.Fatalf("verify: %+v %v", got, err)
	}
	for _, bad := range []string{"", "sp_nope", plain + "x", "Bearer " + plain, strings.Repeat("a", 500)} {
		if _, err := s.Verify(t.Context(), bad); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("verify %q: %v", bad, err)
		}
	}
	if err := s.Revoke(t.Context(), tok.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(t.Context(), plain); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("revoked token still valid: %v", err)
	}
	if err := s.Revoke(t.Context(), "nosuchid", now); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	list, err := s.List(t.Context())
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil {
		t.Fatalf("list %+v %v", list, err)
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	env.Require(t)
	s := auth.NewMongoTokens(env.Mongo.Database(fmt.Sprintf("auth_%d", time.Now().UnixNano())))
	tests := []struct {
		tenant string
		role   auth.Role
	}{{"acme", "root"}, {"", auth.RoleTenant}, {"a b", auth.RoleAdmin}}
	for _, tt := range tests {
		if _, _, err := s.Create(t.Context(), tt.tenant, tt.role, "", time.Now()); err == nil {
			t.Errorf("Create(%q, %q) succeeded", tt.tenant, tt.role)
		}
	}
}
