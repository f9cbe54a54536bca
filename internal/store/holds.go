package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Collections beside the records.
const (
	// HoldsCollection holds the hosts a store holds besides the one it
	// serves (live_host): the new host of a change while it runs, the host
	// a rollback returns to. One document per host, keyed by it, so that an
	// insert decides who holds it on MongoDB and FerretDB alike.
	HoldsCollection = "host_holds"
	// LocksCollection serialises the writes of one record: FerretDB applies
	// an update by reading the document and writing it back, so two
	// concurrent updates of one record could lose each other's fields, and
	// a filter on the phase would not make a write conditional there.
	LocksCollection = "record_locks"
)

// lockTTL is how long a record lock is held at most: a writer that died
// holding it is taken over after it. The holder's own calls end lockMargin
// before that (lock), so that a holder stalled in FerretDB (SQLite waits
// on its busy lock) gives up rather than writing after another writer took
// the lock over. At 10 s a holder stalled that long under the test suite's
// load, and a write was lost (TestConcurrentWritersLoseNoField).
const (
	lockTTL    = 30 * time.Second
	lockMargin = 5 * time.Second
)

// hold is a host a store holds besides its live one.
type hold struct {
	Host       string    `bson:"_id"`
	Name       string    `bson:"name"`
	Generation int       `bson:"generation"`
	At         time.Time `bson:"at"`
}

// lockDoc is a record lock.
type lockDoc struct {
	Name    string    `bson:"_id"`
	Owner   string    `bson:"owner"`
	Expires time.Time `bson:"expires"`
}

// lock takes the write lock of record name, waiting while another writer
// holds it. It returns ctx bounded to lockMargin before the lock expires,
// for every call made under it, and the function that gives it back. An
// insert decides who holds it (the _id is unique on both backends).
func (r *MongoRepository) lock(ctx context.Context, name string) (context.Context, func(), error) {
	locks := r.coll.Database().Collection(LocksCollection)
	wait := time.Millisecond
	for {
		// A new owner at each attempt: a lock this writer took in an
		// earlier attempt (an insert answered with an error that had
		// committed) is then a stranger's, taken over once expired, and
		// never confused with the one taken now.
		var b [8]byte
		_, _ = rand.Read(b[:])
		owner := hex.EncodeToString(b[:])
		taken := time.Now()
		_, err := locks.InsertOne(ctx, lockDoc{Name: name, Owner: owner, Expires: taken.Add(lockTTL)})
		if err == nil {
			held, cancelHeld := context.WithDeadline(ctx, taken.Add(lockTTL-lockMargin))
			return held, func() {
				cancelHeld()
				// Given back even when the caller's context has ended.
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				_, _ = locks.DeleteOne(ctx, bson.M{"_id": name, "owner": owner})
			}, nil
		}
		if !mongo.IsDuplicateKeyError(err) && !isWriteConflict(err) && !IsBusy(err) {
			return nil, nil, fmt.Errorf("lock store %s: %w", name, err)
		}
		var cur lockDoc
		if err := locks.FindOne(ctx, bson.M{"_id": name}).Decode(&cur); err == nil && time.Now().After(cur.Expires) {
			// Its writer died holding it.
			_ = takeOver(ctx, locks, cur)
			continue
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("lock store %s: %w", name, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// takeOver deletes the expired lock seen, and only it: the filter names its
// owner and its expiry, so that a lock taken since then (by another writer,
// or by the same owner again) stays. Otherwise two writers that both saw
// the expired lock could each delete the lock the other took after it, and
// both write.
func takeOver(ctx context.Context, locks *mongo.Collection, seen lockDoc) error {
	_, err := locks.DeleteOne(ctx, bson.M{"_id": seen.Name, "owner": seen.Owner, "expires": seen.Expires})
	return err
}

// HoldHost makes store name at generation hold host besides the host it
// serves; ErrHostTaken when another store serves or holds it. Holding a
// host twice is one hold.
//
// The hold is inserted first and the records are checked after it, the
// way a new record is inserted first and the holds checked after it
// (Insert): of two concurrent claims of one host, at least one sees the
// other and gives way, whatever the backend.
func (r *MongoRepository) HoldHost(ctx context.Context, name string, generation int, host string) error {
	holds := r.coll.Database().Collection(HoldsCollection)
	_, err := holds.InsertOne(ctx, hold{Host: host, Name: name, Generation: generation, At: time.Now().UTC()})
	if err != nil && !mongo.IsDuplicateKeyError(err) && !isWriteConflict(err) {
		return fmt.Errorf("hold host %s for store %s: %w", host, name, err)
	}
	if err != nil {
		var cur hold
		if gerr := holds.FindOne(ctx, bson.M{"_id": host}).Decode(&cur); gerr != nil {
			return fmt.Errorf("hold host %s for store %s: %w", host, name, gerr)
		}
		if cur.Name != name || cur.Generation != generation {
			return ErrHostTaken
		}
	}
	var other Record
	err = r.coll.FindOne(ctx, bson.M{"live_host": host, "name": bson.M{"$ne": name}}).Decode(&other)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("hold host %s for store %s: %w", host, name, err)
	}
	if _, derr := holds.DeleteOne(ctx, bson.M{"_id": host, "name": name, "generation": generation}); derr != nil {
		return fmt.Errorf("give back host %s of store %s: %w", host, name, derr)
	}
	return ErrHostTaken
}

// ReleaseHolds gives back every host store name at generation holds
// besides the one it serves.
func (r *MongoRepository) ReleaseHolds(ctx context.Context, name string, generation int) error {
	_, err := r.coll.Database().Collection(HoldsCollection).DeleteMany(ctx, bson.M{"name": name, "generation": generation})
	if err != nil {
		return fmt.Errorf("release the hosts held by store %s: %w", name, err)
	}
	return nil
}

// HostHolder is the name of the store that serves or holds host, "" when
// none does.
func (r *MongoRepository) HostHolder(ctx context.Context, host string) (string, error) {
	var h hold
	err := r.coll.Database().Collection(HoldsCollection).FindOne(ctx, bson.M{"_id": host}).Decode(&h)
	if err == nil {
		return h.Name, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return "", err
	}
	var rec Record
	err = r.coll.FindOne(ctx, bson.M{"live_host": host}).Decode(&rec)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	return rec.Name, err
}

// heldByOther reports whether a store other than name holds host.
func (r *MongoRepository) heldByOther(ctx context.Context, host, name string) (bool, error) {
	var h hold
	err := r.coll.Database().Collection(HoldsCollection).FindOne(ctx, bson.M{"_id": host}).Decode(&h)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	return err == nil && h.Name != name, err
}

// IsBusy reports FerretDB's answer when its SQLite database is locked by
// another writer: nothing was written, and the same write later works.
func IsBusy(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && strings.Contains(ce.Message, "SQLITE_BUSY")
}
