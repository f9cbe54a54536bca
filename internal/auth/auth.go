// Package auth issues and checks the API's bearer tokens. A token is shown
// once when it is created; only its SHA-256 hash is stored, so a copy of the
// database does not give access to the API.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/storeplatform/storeplatform/internal/mongoindex"
)

// Role is what a token may do.
type Role string

// Roles.
const (
	// RoleAdmin sees and changes every tenant's stores and may force stuck
	// deletions.
	RoleAdmin Role = "admin"
	// RoleTenant sees and changes only its tenant's stores.
	RoleTenant Role = "tenant"
)

// tokenPrefix marks Store Platform tokens, so that secret scanners and
// people recognise them.
const tokenPrefix = "sp_"

// Token is a token's record; the token itself is never stored. Its key is
// the token's hash, so that checking a token is one lookup by _id: the only
// filter FerretDB's SQLite backend (the embedded store) answers without
// reading every document of the collection.
type Token struct {
	ID        string     `json:"id" bson:"token_id"`
	Name      string     `json:"name,omitempty" bson:"name,omitempty"`
	Tenant    string     `json:"tenant" bson:"tenant"`
	Role      Role       `json:"role" bson:"role"`
	CreatedAt time.Time  `json:"createdAt" bson:"created_at"`
	RevokedAt *time.Time `json:"revokedAt,omitempty" bson:"revoked_at,omitempty"`
	Hash      string     `json:"-" bson:"_id"`
}

// Errors.
var (
	ErrInvalidToken = errors.New("invalid or revoked token")
	ErrNotFound     = errors.New("token not found")
)

// MongoTokens keeps token records in the "tokens" collection.
type MongoTokens struct {
	coll *mongo.Collection
}

// NewMongoTokens returns the token store of db.
func NewMongoTokens(db *mongo.Database) *MongoTokens {
	return &MongoTokens{coll: db.Collection("tokens")}
}

// EnsureIndexes keys tokens written before the hash was their _id by their
// hash, then makes token IDs unique. Running it again, or after a crash
// half-way, finishes what is left.
func (s *MongoTokens) EnsureIndexes(ctx context.Context) error {
	if err := s.rekeyLegacy(ctx); err != nil {
		return err
	}
	return mongoindex.Ensure(ctx, s.coll, []mongo.IndexModel{
		{Keys: bson.D{{Key: "token_id", Value: 1}}, Options: options.Index().SetUnique(true).SetName("token_id_unique")},
	})
}

// legacyToken is a token record as it was stored before the hash became
// its _id.
type legacyToken struct {
	OID       bson.ObjectID `bson:"_id"`
	ID        string        `bson:"token_id"`
	Name      string        `bson:"name,omitempty"`
	Tenant    string        `bson:"tenant"`
	Role      Role          `bson:"role"`
	CreatedAt time.Time     `bson:"created_at"`
	RevokedAt *time.Time    `bson:"revoked_at,omitempty"`
	Hash      string        `bson:"hash"`
}

// rekeyLegacy copies every token record keyed by an ObjectID to one keyed
// by its hash and then removes the old one, so that no token is ever
// missing. The old unique indexes on the hash and the token ID would refuse
// the copy: they go first (the _id is unique by itself, and token_id_unique
// is made again once the old records are gone).
func (s *MongoTokens) rekeyLegacy(ctx context.Context) error {
	cur, err := s.coll.Find(ctx, bson.M{"_id": bson.M{"$type": "objectId"}})
	if err != nil {
		return fmt.Errorf("find tokens to rekey: %w", err)
	}
	var old []legacyToken
	if err := cur.All(ctx, &old); err != nil {
		return fmt.Errorf("find tokens to rekey: %w", err)
	}
	if len(old) == 0 {
		return nil
	}
	specs, err := s.coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return fmt.Errorf("list token indexes: %w", err)
	}
	for _, spec := range specs {
		if spec.Name == "hash_unique" || spec.Name == "token_id_unique" {
			if err := s.coll.Indexes().DropOne(ctx, spec.Name); err != nil {
				return fmt.Errorf("drop token index %s: %w", spec.Name, err)
			}
		}
	}
	for _, l := range old {
		t := Token{ID: l.ID, Name: l.Name, Tenant: l.Tenant, Role: l.Role, CreatedAt: l.CreatedAt, RevokedAt: l.RevokedAt, Hash: l.Hash}
		if _, err := s.coll.InsertOne(ctx, t); err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("rekey token %s: %w", t.ID, err)
		}
		if _, err := s.coll.DeleteOne(ctx, bson.M{"_id": l.OID}); err != nil {
			return fmt.Errorf("rekey token %s: %w", t.ID, err)
		}
	}
	return nil
}

// hash is the stored form of a token.
func hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// tenantRE is the store chart's rule for store.tenant
// (charts/store/values.schema.json), without the empty name the chart
// allows for "no tenant": a token always acts for one.
var tenantRE = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.]*$`)

// MaxTenantLength is the longest tenant name (the chart's maxLength).
const MaxTenantLength = 63

// ErrInvalidTenant is ValidateTenant's error.
var ErrInvalidTenant = errors.New("tenant must be 1 to 63 characters: letters, digits, '-', '_' and '.', starting with a letter or digit")

// ValidateTenant is the one rule for tenant names, checked where tokens are
// made: the store chart's schema checks store.tenant with the same
// pattern, so a tenant it would refuse cannot own stores that then all
// fail to install.
func ValidateTenant(tenant string) error {
	if len(tenant) > MaxTenantLength || !tenantRE.MatchString(tenant) {
		return fmt.Errorf("%w (got %q)", ErrInvalidTenant, tenant)
	}
	return nil
}

// Create issues a token for tenant with role and returns it with its record.
// The token is not kept anywhere: the caller shows it once.
func (s *MongoTokens) Create(ctx context.Context, tenant string, role Role, name string, now time.Time) (string, Token, error) {
	if role != RoleAdmin && role != RoleTenant {
		return "", Token{}, fmt.Errorf("role must be %s or %s", RoleAdmin, RoleTenant)
	}
	if err := ValidateTenant(tenant); err != nil {
		return "", Token{}, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", Token{}, err
	}
	plain := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	h := hash(plain)
	t := Token{ID: h[:12], Name: name, Tenant: tenant, Role: role, CreatedAt: now.UTC(), Hash: h}
	if _, err := s.coll.InsertOne(ctx, t); err != nil {
		return "", Token{}, fmt.Errorf("store token: %w", err)
	}
	return plain, t, nil
}

// Verify returns the record of a valid, unrevoked token.
func (s *MongoTokens) Verify(ctx context.Context, token string) (Token, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 128 {
		return Token{}, ErrInvalidToken
	}
	var t Token
	err := s.coll.FindOne(ctx, bson.M{"_id": hash(token)}).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Token{}, ErrInvalidToken
	}
	if err != nil {
		return Token{}, err
	}
	if t.RevokedAt != nil {
		return Token{}, ErrInvalidToken
	}
	return t, nil
}

// List returns every token record, newest first.
func (s *MongoTokens) List(ctx context.Context) ([]Token, error) {
	cur, err := s.coll.Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}}))
	if err != nil {
		return nil, err
	}
	var out []Token
	err = cur.All(ctx, &out)
	return out, err
}

// Revoke revokes the token with id; revoking a revoked token is success.
func (s *MongoTokens) Revoke(ctx context.Context, id string, now time.Time) error {
	res, err := s.coll.UpdateOne(ctx, bson.M{"token_id": id}, bson.M{"$set": bson.M{"revoked_at": now.UTC()}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return ErrNotFound
	}
	return nil
}
