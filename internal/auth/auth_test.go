package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
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

// TestLegacyTokensAreRekeyed starts from token records as they were stored
// before the hash became their _id (with the unique indexes of that time),
// also from a rekeying that stopped half-way, and checks that every token
// still works afterwards, keyed by its hash.
func TestLegacyTokensAreRekeyed(t *testing.T) {
	env.Require(t)
	const (
		plain = "sp_legacy-token-of-acme"
		gone  = "sp_legacy-revoked-token"
	)
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	legacy := func(plain string, revoked bool) bson.M {
		h := sum(plain)
		d := bson.M{"_id": bson.NewObjectID(), "token_id": h[:12], "tenant": "acme", "role": "tenant",
			"created_at": time.Now().UTC(), "hash": h}
		if revoked {
			d["revoked_at"] = time.Now().UTC()
		}
		return d
	}
	tests := []struct {
		name     string
		oldIndex bool
		halfDone bool
	}{
		{name: "records and indexes of before", oldIndex: true},
		{name: "a rekeying that stopped after the copy", halfDone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := env.Mongo.Database(fmt.Sprintf("auth_%d", time.Now().UnixNano()))
			coll := db.Collection("tokens")
			if tt.oldIndex {
				_, err := coll.Indexes().CreateMany(t.Context(), []mongo.IndexModel{
					{Keys: bson.D{{Key: "hash", Value: 1}}, Options: options.Index().SetUnique(true).SetName("hash_unique")},
					{Keys: bson.D{{Key: "token_id", Value: 1}}, Options: options.Index().SetUnique(true).SetName("token_id_unique")},
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			docs := []any{legacy(plain, false), legacy(gone, true)}
			if tt.halfDone {
				h := sum(plain)
				docs = append(docs, bson.M{"_id": h, "token_id": h[:12], "tenant": "acme", "role": "tenant", "created_at": time.Now().UTC()})
			}
			if _, err := coll.InsertMany(t.Context(), docs); err != nil {
				t.Fatal(err)
			}
			s := auth.NewMongoTokens(db)
			for i := 0; i < 2; i++ {
				if err := s.EnsureIndexes(t.Context()); err != nil {
					t.Fatalf("ensure %d: %v", i, err)
				}
			}
			if got, err := s.Verify(t.Context(), plain); err != nil || got.Tenant != "acme" || got.ID != sum(plain)[:12] {
				t.Fatalf("verify the legacy token: %+v %v", got, err)
			}
			if _, err := s.Verify(t.Context(), gone); !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("the revoked legacy token: %v", err)
			}
			if n, err := coll.CountDocuments(t.Context(), bson.M{"_id": bson.M{"$type": "objectId"}}); err != nil || n != 0 {
				t.Fatalf("records still keyed by an ObjectID: %d %v", n, err)
			}
			if n, err := coll.CountDocuments(t.Context(), bson.M{}); err != nil || n != 2 {
				t.Fatalf("records: %d %v, want 2", n, err)
			}
			specs, err := coll.Indexes().ListSpecifications(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, sp := range specs {
				names = append(names, sp.Name)
			}
			if !slices.Contains(names, "token_id_unique") || slices.Contains(names, "hash_unique") {
				t.Fatalf("indexes %v: want token_id_unique and no hash_unique", names)
			}
			if err := s.Revoke(t.Context(), sum(plain)[:12], time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Verify(t.Context(), plain); !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("revoked after rekeying: %v", err)
			}
		})
	}
}
