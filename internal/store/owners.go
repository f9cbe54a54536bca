package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// OwnersCollection holds one document per tenant with the _ids of its
// store records: {_id: <owner>, ids: [...]}. A tenant's listing reads it and
// then its records one by one by _id. On MongoDB an index would do; on the
// embedded FerretDB (SQLite) a lookup by _id is the only filter answered
// without reading every document of the collection, so a tenant's first
// page costs the same with 10 records in all or with 10,000.
//
// The list is written before the record, so every record of a tenant is in
// it; it may also hold _ids whose insert failed (they read as missing) and
// those of deleted stores (filtered, as in every listing). It is a set:
// adding twice is harmless, and the order is the _ids' own (creation time).
const OwnersCollection = "store_owners"

// danglingAfter is how old an _id of the owners' lists must be before a
// listing that finds no record for it removes it: a younger one may belong
// to an insert still on its way.
const danglingAfter = 10 * time.Minute

// owned is the document of one owner's record _ids.
type owned struct {
	IDs []bson.ObjectID `bson:"ids"`
}

func (r *MongoRepository) owners() *mongo.Collection {
	return r.coll.Database().Collection(OwnersCollection)
}

// addOwned adds ids to owner's list.
func (r *MongoRepository) addOwned(ctx context.Context, owner string, ids ...bson.ObjectID) error {
	_, err := r.owners().UpdateOne(ctx, bson.M{"_id": owner},
		bson.M{"$addToSet": bson.M{"ids": bson.M{"$each": ids}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("list store of %s: %w", owner, err)
	}
	return nil
}

// indexOwned puts every record that has an owner on its owner's list: the
// records of a version before the lists, or of one still running beside
// this one during an upgrade. Run at start.
func (r *MongoRepository) indexOwned(ctx context.Context) error {
	cur, err := r.coll.Find(ctx, bson.M{"owner": bson.M{"$exists": true}}, options.Find().SetProjection(bson.M{"owner": 1}))
	if err != nil {
		return fmt.Errorf("find owned records: %w", err)
	}
	var recs []struct {
		ID    bson.ObjectID `bson:"_id"`
		Owner string        `bson:"owner"`
	}
	if err := cur.All(ctx, &recs); err != nil {
		return fmt.Errorf("find owned records: %w", err)
	}
	byOwner := map[string][]bson.ObjectID{}
	for _, rec := range recs {
		if rec.Owner != "" {
			byOwner[rec.Owner] = append(byOwner[rec.Owner], rec.ID)
		}
	}
	for owner, ids := range byOwner {
		if err := r.addOwned(ctx, owner, ids...); err != nil {
			return err
		}
	}
	return nil
}

// listOwned is List for q.Owner's live stores (no phase or engine filter):
// the owner's list, newest first from the cursor, read by _id a page at a
// time, skipping what is not (or no longer) a live store of the owner.
func (r *MongoRepository) listOwned(ctx context.Context, q ListQuery, cursor *bson.ObjectID, limit int) ([]Record, string, error) {
	var doc owned
	err := r.owners().FindOne(ctx, bson.M{"_id": q.Owner}).Decode(&doc)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, "", err
	}
	ids := doc.IDs
	slices.SortFunc(ids, func(a, b bson.ObjectID) int { return -compareIDs(a, b) })
	if cursor != nil {
		k, _ := slices.BinarySearchFunc(ids, *cursor, func(a, c bson.ObjectID) int { return -compareIDs(a, c) })
		for k < len(ids) && ids[k] == *cursor {
			k++
		}
		ids = ids[k:]
	}
	var out []Record
	var gone []bson.ObjectID
	for len(out) <= limit && len(ids) > 0 {
		batch := ids[:min(len(ids), limit+1-len(out))]
		ids = ids[len(batch):]
		recs, err := r.byIDs(ctx, batch)
		if err != nil {
			return nil, "", err
		}
		for i, rec := range recs {
			switch {
			case rec == nil:
				if time.Since(batch[i].Timestamp()) > danglingAfter {
					gone = append(gone, batch[i])
				}
			case rec.Owner == q.Owner && rec.Phase != PhaseDeleted:
				out = append(out, *rec)
			}
		}
	}
	if len(gone) > 0 {
		// Best effort: an _id left behind costs one lookup per listing.
		_, _ = r.owners().UpdateOne(ctx, bson.M{"_id": q.Owner}, bson.M{"$pullAll": bson.M{"ids": gone}})
	}
	withTenants(out)
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID.Hex()
	}
	return out, next, nil
}

// byIDs reads the records of ids at once, one lookup by _id each; nil where
// there is none.
func (r *MongoRepository) byIDs(ctx context.Context, ids []bson.ObjectID) ([]*Record, error) {
	out := make([]*Record, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			var rec Record
			err := r.coll.FindOne(ctx, bson.M{"_id": id}).Decode(&rec)
			switch {
			case errors.Is(err, mongo.ErrNoDocuments):
			case err != nil:
				errs[i] = err
			default:
				out[i] = &rec
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// compareIDs orders ObjectIDs as MongoDB does (by their bytes).
func compareIDs(a, b bson.ObjectID) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
