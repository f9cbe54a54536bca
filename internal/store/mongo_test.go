package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/store/storetest"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func newRepo(t *testing.T) *store.MongoRepository {
	t.Helper()
	env.Require(t)
	r := store.NewMongoRepository(env.Mongo.Database(fmt.Sprintf("store_test_%d", time.Now().UnixNano())))
	// Twice: a second worker starting against the same database.
	for i := 0; i < 2; i++ {
		if err := r.EnsureIndexes(t.Context()); err != nil {
			t.Fatalf("EnsureIndexes #%d: %v", i+1, err)
		}
	}
	return r
}

func TestUpdateStatusIsAnIdempotentUpsert(t *testing.T) {
	r := newRepo(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	spec := store.Spec{Name: "shop", Generation: 1, Engine: store.EngineWooCommerce, Host: "shop.example.com"}
	u := store.StatusUpdate{Name: "shop", Generation: 1, Spec: &spec, Phase: store.PhaseProvisioning, Message: "creating", At: at}
	for i := 0; i < 2; i++ {
		if err := r.UpdateStatus(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	ready := store.StatusUpdate{Name: "shop", Generation: 1, Phase: store.PhaseReady, URL: "http://shop.example.com", At: at.Add(time.Minute)}
	if err := r.UpdateStatus(t.Context(), ready); err != nil {
		t.Fatal(err)
	}
	rec, err := r.Get(t.Context(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Phase != store.PhaseReady || rec.Engine != store.EngineWooCommerce || rec.URL != "http://shop.example.com" ||
		!rec.CreatedAt.Equal(at) || rec.ReadyAt == nil || !rec.ReadyAt.Equal(at.Add(time.Minute)) || rec.Namespace != "store-shop" {
		t.Fatalf("record %+v", rec)
	}
}

func TestUpdateStatusAcrossGenerations(t *testing.T) {
	r := newRepo(t)
	at := time.Now().UTC().Truncate(time.Millisecond)
	write := func(gen int, phase store.Phase, w store.Writer) error {
		spec := store.Spec{Name: "shop", Generation: gen, Engine: store.EngineWooCommerce, Host: "shop.example.com"}
		return r.UpdateStatus(t.Context(), store.StatusUpdate{Name: "shop", Generation: gen, Phase: phase, Writer: w, Spec: &spec, At: at})
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(write(1, store.PhaseProvisioning, store.WriterCreate))
	must(write(1, store.PhaseReady, store.WriterCreate))
	// A second generation cannot take a name that is still in use.
	if err := write(2, store.PhaseProvisioning, store.WriterCreate); !errors.Is(err, store.ErrMoved) {
		t.Fatalf("generation 2 took the name of a live store: %v", err)
	}
	must(write(1, store.PhaseDeleting, store.WriterDelete))
	must(write(1, store.PhaseDeleted, store.WriterDelete))
	must(write(2, store.PhaseProvisioning, store.WriterCreate))
	// A late write of generation 1 does not touch generation 2.
	if err := write(1, store.PhaseFailed, store.WriterCreate); !errors.Is(err, store.ErrMoved) {
		t.Fatalf("a late write of generation 1: %v", err)
	}
	rec, err := r.Get(t.Context(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Generation != 2 || rec.Phase != store.PhaseProvisioning {
		t.Fatalf("record %+v", rec)
	}
}

func TestGetMissing(t *testing.T) {
	r := newRepo(t)
	if _, err := r.Get(t.Context(), "nope"); err != store.ErrNotFound {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
}

func TestListHidesDeletedUnlessAsked(t *testing.T) {
	r := newRepo(t)
	at := time.Now().UTC().Truncate(time.Millisecond)
	for _, s := range []struct {
		name  string
		phase store.Phase
	}{{"gone", store.PhaseDeleted}, {"live", store.PhaseReady}, {"going", store.PhaseDeleting}} {
		spec := store.Spec{Name: s.name, Generation: 1, Engine: store.EngineWooCommerce, Host: s.name + ".example.com"}
		if err := r.UpdateStatus(t.Context(), store.StatusUpdate{Name: s.name, Generation: 1, Spec: &spec, Phase: s.phase, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		phase store.Phase
		want  string
	}{{"", "going,live"}, {store.PhaseDeleted, "gone"}, {store.PhaseReady, "live"}} {
		recs, _, err := r.List(t.Context(), store.ListQuery{Phase: tt.phase, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, rec := range recs {
			names = append(names, rec.Name)
		}
		if got := strings.Join(names, ","); got != tt.want {
			t.Errorf("phase %q: got %s, want %s", tt.phase, got, tt.want)
		}
	}
}

// TestMongoRepositoryKeepsTheContract runs the repository contract (which
// the API's in-memory stand-in runs too) on the real database.
func TestMongoRepositoryKeepsTheContract(t *testing.T) {
	storetest.Contract(t, func(t *testing.T) storetest.Repository { return newRepo(t) })
}

// TestEnsureIndexesServeTheListings: the listing of a tenant's stores
// (owner, newest _id first) and the event streams' change feed
// (updated_at) have their indexes, besides the unique ones.
func TestEnsureIndexesServeTheListings(t *testing.T) {
	env.Require(t)
	db := env.Mongo.Database(fmt.Sprintf("store_idx_%d", time.Now().UnixNano()))
	if err := store.NewMongoRepository(db).EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	specs, err := db.Collection(store.CollectionName).Indexes().ListSpecifications(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range specs {
		got[s.Name] = string(s.KeysDocument)
	}
	for _, name := range []string{"name_unique", "owner_created", "live_host_unique", "slot_unique", "owner_id", "updated_at"} {
		if _, ok := got[name]; !ok {
			t.Errorf("index %s missing; have %v", name, got)
		}
	}
}
