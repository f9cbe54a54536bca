package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/storeplatform/storeplatform/internal/store"
)

// finds records the filters of the find commands a client sends.
type finds struct {
	mu      sync.Mutex
	filters map[string][]bson.Raw // by collection
}

func (f *finds) started(_ context.Context, e *event.CommandStartedEvent) {
	if e.CommandName != "find" {
		return
	}
	coll, _ := e.Command.Lookup("find").StringValueOK()
	filter, _ := e.Command.Lookup("filter").DocumentOK()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filters[coll] = append(f.filters[coll], bson.Raw(filter))
}

// TestTenantListingReadsOnlyByID: a tenant's listing is served from its
// owner's list with lookups by _id only (the one filter the embedded
// FerretDB answers without reading the whole collection); records written
// straight to the collection, as by a version before the lists, are listed
// once the indexes are ensured; an _id whose record never came is skipped,
// and dropped from the list once it is old.
func TestTenantListingReadsOnlyByID(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	f := &finds{filters: map[string][]bson.Raw{}}
	client, err := mongo.Connect(options.Client().ApplyURI(env.MongoURI).SetMonitor(&event.CommandMonitor{Started: f.started}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(ctx) })
	db := client.Database(fmt.Sprintf("store_owners_%d", time.Now().UnixNano()))
	r := store.NewMongoRepository(db)
	if err := r.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	// Written straight, as an older version did: no owner's list.
	for i := range 3 {
		rec := liveRecord(fmt.Sprintf("old%d", i), "acme", fmt.Sprintf("old%d.example.com", i), store.SlotOf("acme", i))
		rec.ID = bson.NewObjectIDFromTimestamp(time.Now().Add(time.Duration(i-10) * time.Second))
		if _, err := db.Collection(store.CollectionName).InsertOne(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := r.Insert(ctx, liveRecord(fmt.Sprintf("new%d", i), "acme", fmt.Sprintf("new%d.example.com", i), store.SlotOf("acme", 3+i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Insert(ctx, liveRecord("theirs", "globex", "theirs.example.com", store.SlotOf("globex", 0))); err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateStatus(ctx, store.StatusUpdate{Name: "new1", Generation: 1, Phase: store.PhaseDeleted, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// Inserts that never came: an old one and one that may still be on its way.
	oldGhost := bson.NewObjectIDFromTimestamp(time.Now().Add(-time.Hour))
	youngGhost := bson.NewObjectID()
	owners := db.Collection(store.OwnersCollection)
	if _, err := owners.UpdateOne(ctx, bson.M{"_id": "acme"}, bson.M{"$addToSet": bson.M{"ids": bson.M{"$each": bson.A{oldGhost, youngGhost}}}}); err != nil {
		t.Fatal(err)
	}

	f.mu.Lock()
	f.filters = map[string][]bson.Raw{}
	f.mu.Unlock()
	var names []string
	cursor := ""
	for range 10 {
		page, next, err := r.List(ctx, store.ListQuery{Owner: "acme", Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range page {
			names = append(names, rec.Name)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if got, want := fmt.Sprint(names), "[new2 new0 old2 old1 old0]"; got != want {
		t.Fatalf("pages %s, want %s", got, want)
	}
	f.mu.Lock()
	for coll, filters := range f.filters {
		for _, filter := range filters {
			keys, err := filter.Elements()
			if err != nil || len(keys) != 1 || keys[0].Key() != "_id" || keys[0].Value().Type == bson.TypeEmbeddedDocument {
				t.Errorf("a listing sent find %s %s: not one lookup by _id", coll, filter)
			}
		}
	}
	f.mu.Unlock()
	var doc struct {
		IDs []bson.ObjectID `bson:"ids"`
	}
	if err := owners.FindOne(ctx, bson.M{"_id": "acme"}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	has := func(id bson.ObjectID) bool {
		for _, x := range doc.IDs {
			if x == id {
				return true
			}
		}
		return false
	}
	if has(oldGhost) || !has(youngGhost) {
		t.Fatalf("acme's list %v: want the old ghost %s dropped and the young one %s kept", doc.IDs, oldGhost.Hex(), youngGhost.Hex())
	}
}
