package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// installationDoc is the _id of the platform document holding the
// installation's identity.
const installationDoc = "installation"

var installationRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ValidInstallationID reports whether id has the form EnsureInstallationID
// gives: 16 random bytes in lowercase hex, usable as a Kubernetes label
// value.
func ValidInstallationID(id string) bool { return installationRE.MatchString(id) }

// EnsureInstallationID returns the identity of the platform installation
// whose database is db, making it the first time. The identity is not a
// secret: the worker stamps it on every namespace, Secret and release it
// makes, so that a second platform on the same cluster, or a reinstall on
// a fresh database, can tell what is its own. Concurrent first calls agree:
// the upsert sets the ID only on insert and every caller reads back the one
// that was kept.
func EnsureInstallationID(ctx context.Context, db *mongo.Database) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("installation id: %w", err)
	}
	coll := db.Collection(PlatformCollection)
	filter := bson.M{"_id": installationDoc}
	_, err := coll.UpdateOne(ctx, filter,
		bson.M{"$setOnInsert": bson.M{"id": hex.EncodeToString(b), "created_at": time.Now().UTC()}},
		options.UpdateOne().SetUpsert(true))
	// Two first upserts at once: the loser's insert is a duplicate key,
	// and the winner's ID is read below.
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return "", fmt.Errorf("installation id: %w", err)
	}
	var doc struct {
		ID string `bson:"id"`
	}
	err = coll.FindOne(ctx, filter).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", errors.New("installation id: the platform document is missing after its upsert")
	}
	if err != nil {
		return "", fmt.Errorf("installation id: %w", err)
	}
	if !ValidInstallationID(doc.ID) {
		return "", fmt.Errorf("installation id: %s/%s holds %q, not 32 hex digits", PlatformCollection, installationDoc, doc.ID)
	}
	return doc.ID, nil
}
