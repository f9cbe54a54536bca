package store_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/storeplatform/storeplatform/internal/store"
)

func liveRecord(name, owner, host, slot string) store.Record {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return store.Record{
		Spec:  store.Spec{Name: name, Generation: 1, Engine: store.EngineWooCommerce, Host: host},
		Owner: owner, Claim: store.Claim{LiveHost: host, Slot: slot},
		Phase: store.PhaseRequested, Namespace: store.NamespaceFor(name), CreatedAt: now, UpdatedAt: now,
	}
}

// TestClaimsAreUnique: a host and a slot of a tenant's limit belong to one
// live store; a deleted store releases both; a host change claims the new
// host or fails as taken.
func TestClaimsAreUnique(t *testing.T) {
	r := newRepo(t)
	ctx := t.Context()
	if err := r.Insert(ctx, liveRecord("a", "acme", "a.example.com", store.SlotOf("acme", 0))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rec  store.Record
		want error
	}{
		{liveRecord("a", "acme", "z.example.com", store.SlotOf("acme", 1)), store.ErrConflict},
		{liveRecord("b", "globex", "a.example.com", store.SlotOf("globex", 0)), store.ErrHostTaken},
		{liveRecord("c", "acme", "c.example.com", store.SlotOf("acme", 0)), store.ErrSlotTaken},
		{liveRecord("d", "acme", "d.example.com", store.SlotOf("acme", 1)), nil},
	}
	for _, tt := range tests {
		if err := r.Insert(ctx, tt.rec); !errors.Is(err, tt.want) {
			t.Errorf("insert %s (%s, %s): %v, want %v", tt.rec.Name, tt.rec.LiveHost, tt.rec.Slot, err, tt.want)
		}
	}
	slot, ok, err := r.FreeSlot(ctx, "acme", 3)
	if err != nil || !ok || slot != store.SlotOf("acme", 2) {
		t.Fatalf("free slot %q %v %v", slot, ok, err)
	}
	if _, ok, _ := r.FreeSlot(ctx, "acme", 2); ok {
		t.Fatal("a free slot beyond the limit")
	}
	if err := r.HoldHost(ctx, "d", 1, "a.example.com"); !errors.Is(err, store.ErrHostTaken) {
		t.Fatalf("hold of a taken host: %v", err)
	}
	if err := r.HoldHost(ctx, "d", 1, "new.example.com"); err != nil {
		t.Fatalf("hold of a free host: %v", err)
	}
	// Deleting "a" frees its host and its slot.
	for _, p := range []store.Phase{store.PhaseDeleting, store.PhaseDeleted} {
		if err := r.UpdateStatus(ctx, store.StatusUpdate{Name: "a", Generation: 1, Phase: p, Writer: store.WriterDelete, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Insert(ctx, liveRecord("e", "globex", "a.example.com", store.SlotOf("globex", 0))); err != nil {
		t.Fatalf("the host of a deleted store: %v", err)
	}
	if slot, ok, _ := r.FreeSlot(ctx, "acme", 2); !ok || slot != store.SlotOf("acme", 0) {
		t.Fatalf("the slot of a deleted store: %q %v", slot, ok)
	}
}

// TestLegacyRecordsGetClaims: records written before claims existed get
// them when the indexes are made; two live stores on one host (possible
// then) leave the host to the older one; live stores hold numbered slots of
// their owner's limit, also those an earlier version gave a placeholder.
func TestLegacyRecordsGetClaims(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	db := env.Mongo.Database(fmt.Sprintf("store_legacy_%d", time.Now().UnixNano()))
	coll := db.Collection(store.CollectionName)
	base := time.Now().UTC().Add(-time.Hour)
	for i, d := range []bson.M{
		{"name": "old", "owner": "acme", "host": "same.example.com", "phase": "ready"},
		{"name": "newer", "owner": "globex", "host": "same.example.com", "phase": "ready"},
		{"name": "gone", "owner": "acme", "host": "gone.example.com", "phase": "deleted"},
		{"name": "claimed", "owner": "acme", "host": "claimed.example.com", "phase": "ready",
			"live_host": "claimed.example.com", "slot": "legacy:claimed"},
	} {
		d["generation"], d["created_at"] = 1, base.Add(time.Duration(i)*time.Minute)
		if _, err := coll.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	r := store.NewMongoRepository(db)
	if err := r.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]store.Claim{
		"old":     {LiveHost: "same.example.com", Slot: store.SlotOf("acme", 0)},
		"newer":   {LiveHost: "legacy:newer", Slot: store.SlotOf("globex", 0)},
		"gone":    {LiveHost: "deleted:gone", Slot: "deleted:gone"},
		"claimed": {LiveHost: "claimed.example.com", Slot: store.SlotOf("acme", 1)},
	}
	for i := 0; i < 2; i++ { // a second start changes nothing
		for name, c := range want {
			var got store.Record
			if err := coll.FindOne(ctx, bson.M{"name": name}).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got.Claim != c {
				t.Errorf("%s: claims %+v, want %+v", name, got.Claim, c)
			}
		}
		if err := r.EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := r.FreeSlot(ctx, "acme", 2); ok {
		t.Fatal("acme's two live legacy stores leave a slot of a limit of 2 free")
	}
	if err := r.Insert(ctx, liveRecord("y", "acme", "y.example.com", store.SlotOf("acme", 1))); !errors.Is(err, store.ErrSlotTaken) {
		t.Fatalf("a legacy store's slot taken again: %v", err)
	}
	if err := r.Insert(ctx, liveRecord("x", "globex", "gone.example.com", store.SlotOf("globex", 1))); err != nil {
		t.Fatalf("a deleted legacy store's host: %v", err)
	}
}

// TestConcurrentWritersLoseNoField (hole 9 of #20): a deletion and an
// operation write one record at the same moment, fifty times over, on the
// embedded FerretDB, which applies an update by reading the document and
// writing it back. Every record must end as the state machine says: the
// deletion's phase and workflow ID kept (a late operation changes
// nothing), whichever write came first. Without the record lock, an
// operation's write that read the record before the deletion's write wrote
// it back with phase updating and without the deletion's workflow ID.
func TestConcurrentWritersLoseNoField(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	r := store.NewMongoRepository(env.Mongo.Database(fmt.Sprintf("store_writers_%d", time.Now().UnixNano())))
	if err := r.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 50
	at := time.Now().UTC().Truncate(time.Millisecond)
	for i := range n {
		rec := liveRecord(fmt.Sprintf("w%02d", i), "acme", fmt.Sprintf("w%02d.example.com", i), store.SlotOf("acme", i))
		rec.Phase = store.PhaseReady
		if err := r.Insert(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	// As an activity's retry policy does: FerretDB answers SQLITE_BUSY
	// when its database is locked by another writer, and wrote nothing.
	retry := func(write func() error) error {
		for try := 0; ; try++ {
			err := write()
			if !store.IsBusy(err) || try == 50 {
				return err
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		name := fmt.Sprintf("w%02d", i)
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			errs <- retry(func() error {
				return r.UpdateStatus(ctx, store.StatusUpdate{Name: name, Generation: 1, Phase: store.PhaseDeleting, Writer: store.WriterDelete,
					DeleteWorkflowID: "store/" + name + "/1/delete", Message: "deleting", At: at})
			})
		})
		wg.Go(func() {
			<-start
			err := retry(func() error {
				return r.UpdateOperation(ctx, store.OperationUpdate{Name: name, Generation: 1, Phase: store.PhaseUpdating, Message: "change",
					Operation: &store.Operation{Kind: store.OpChange, WorkflowID: "store/" + name + "/1/operation", StartedAt: at}, At: at})
			})
			if errors.Is(err, store.ErrNotOperable) {
				err = nil // the deletion came first
			}
			errs <- err
		})
		close(start)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		got, err := r.Get(ctx, fmt.Sprintf("w%02d", i))
		if err != nil {
			t.Fatal(err)
		}
		if got.Phase != store.PhaseDeleting || got.DeleteWorkflowID == "" || got.Message != "deleting" {
			t.Errorf("%s: phase %s, message %q, delete workflow %q: a write was lost", got.Name, got.Phase, got.Message, got.DeleteWorkflowID)
		}
	}
}

// TestTakeOverDeletesOnlyTheExpiredLock: a writer that saw a record's lock
// expire deletes that lock and no other. A lock taken since, even by the
// same owner, stays: otherwise two writers that both saw the expired lock
// could each delete the other's new lock and both write (the lost write
// that TestConcurrentWritersLoseNoField once caught under load).
func TestTakeOverDeletesOnlyTheExpiredLock(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	locks := env.Mongo.Database(fmt.Sprintf("locks_test_%d", time.Now().UnixNano())).Collection(store.LocksCollection)
	past := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	future := time.Now().Add(time.Minute).UTC().Truncate(time.Millisecond)
	for _, tt := range []struct {
		name        string
		lockedOwner string
		lockedUntil time.Time
		seenOwner   string
		seenUntil   time.Time
		wantLeft    int64
	}{
		{"the expired lock seen", "a", past, "a", past, 0},
		{"taken again by its owner since", "a", future, "a", past, 1},
		{"taken by another writer since", "b", future, "a", past, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := strings.ReplaceAll(tt.name, " ", "-")
			if _, err := locks.InsertOne(ctx, bson.M{"_id": id, "owner": tt.lockedOwner, "expires": tt.lockedUntil}); err != nil {
				t.Fatal(err)
			}
			if err := store.TakeOverLock(ctx, locks, id, tt.seenOwner, tt.seenUntil); err != nil {
				t.Fatal(err)
			}
			left, err := locks.CountDocuments(ctx, bson.M{"_id": id})
			if err != nil {
				t.Fatal(err)
			}
			if left != tt.wantLeft {
				t.Errorf("%d locks left, want %d", left, tt.wantLeft)
			}
		})
	}
}
