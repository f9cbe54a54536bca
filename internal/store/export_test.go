package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TakeOverLock is takeOver for the tests of package store_test: it deletes
// the expired lock of record name that had owner and expires.
func TakeOverLock(ctx context.Context, locks *mongo.Collection, name, owner string, expires time.Time) error {
	return takeOver(ctx, locks, lockDoc{Name: name, Owner: owner, Expires: expires})
}
