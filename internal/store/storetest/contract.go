// Package storetest holds the behaviour every store repository must show:
// MongoRepository on the real database, and any in-memory stand-in that
// handler tests use, run the same Contract, so the stand-in cannot drift
// from the real thing.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/internal/store"
)

// Repository is what the contract checks.
type Repository interface {
	store.Records
	HoldHost(ctx context.Context, name string, generation int, host string) error
}

// base is the clock of the contract's records: milliseconds, as MongoDB
// keeps them.
var base = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// Live is a new live record as the API writes it.
func Live(name, owner string, k int, at time.Duration) store.Record {
	host := name + ".stores.example.com"
	return store.Record{
		Spec:  store.Spec{Name: name, Generation: 1, Engine: store.EngineWooCommerce, Host: host, Tenant: owner},
		Owner: owner, Claim: store.Claim{LiveHost: host, Slot: store.SlotOf(owner, k)},
		Phase: store.PhaseRequested, Message: "waiting", Namespace: store.NamespaceFor(name),
		CreatedAt: base.Add(at), UpdatedAt: base.Add(at),
	}
}

// Contract runs every case against a new repository from newRepo.
func Contract(t *testing.T, newRepo func(t *testing.T) Repository) {
	cases := []struct {
		name string
		run  func(t *testing.T, r Repository)
	}{
		{"insert then get", insertGet},
		{"claims are unique", claimsUnique},
		{"status updates apply", statusApplies},
		{"status of an unknown store makes its record", statusUpserts},
		{"status of an older generation is ignored", olderGeneration},
		{"deletion releases the claims", deletionReleases},
		{"list by owner, newest first, in pages", listPages},
		{"changes since a time, oldest first", changedSince},
		{"requested records", requested},
		{"the state machine refuses writes out of order", refusesOutOfOrder},
		{"held hosts", heldHosts},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newRepo(t)) })
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, r Repository, name string) store.Record {
	t.Helper()
	rec, err := r.Get(t.Context(), name)
	must(t, err)
	return rec
}

func insertGet(t *testing.T, r Repository) {
	ctx := t.Context()
	must(t, r.Insert(ctx, Live("shop", "acme", 0, 0)))
	got := get(t, r, "shop")
	want := Live("shop", "acme", 0, 0)
	if got.Spec != want.Spec || got.Owner != "acme" || got.Phase != store.PhaseRequested || got.Message != "waiting" ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || got.Namespace != "store-shop" {
		t.Fatalf("got %+v", got)
	}
	if _, err := r.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown store: %v", err)
	}
}

func claimsUnique(t *testing.T, r Repository) {
	ctx := t.Context()
	must(t, r.Insert(ctx, Live("a", "acme", 0, 0)))
	sameName := Live("a", "acme", 1, time.Second)
	sameName.Claim.LiveHost = "other.example.com"
	sameHost := Live("b", "globex", 0, time.Second)
	sameHost.LiveHost = "a.stores.example.com"
	for _, tt := range []struct {
		rec  store.Record
		want error
	}{
		{sameName, store.ErrConflict},
		{sameHost, store.ErrHostTaken},
		{Live("c", "acme", 0, time.Second), store.ErrSlotTaken},
		{Live("d", "acme", 1, time.Second), nil},
	} {
		if err := r.Insert(ctx, tt.rec); !errors.Is(err, tt.want) {
			t.Errorf("insert %s: %v, want %v", tt.rec.Name, err, tt.want)
		}
	}
	if slot, ok, err := r.FreeSlot(ctx, "acme", 3); err != nil || !ok || slot != store.SlotOf("acme", 2) {
		t.Errorf("free slot %q %v %v", slot, ok, err)
	}
	if _, ok, err := r.FreeSlot(ctx, "acme", 2); err != nil || ok {
		t.Errorf("a free slot beyond the limit (%v)", err)
	}
}

func heldHosts(t *testing.T, r Repository) {
	ctx := t.Context()
	must(t, r.Insert(ctx, Live("a", "acme", 0, 0)))
	must(t, r.Insert(ctx, Live("d", "acme", 1, time.Second)))
	if err := r.HoldHost(ctx, "d", 1, "a.stores.example.com"); !errors.Is(err, store.ErrHostTaken) {
		t.Errorf("hold of a host another store serves: %v", err)
	}
	must(t, r.HoldHost(ctx, "d", 1, "new.example.com"))
	must(t, r.HoldHost(ctx, "d", 1, "new.example.com")) // twice is one hold
	if err := r.HoldHost(ctx, "a", 1, "new.example.com"); !errors.Is(err, store.ErrHostTaken) {
		t.Errorf("hold of a host another store holds: %v", err)
	}
	for host, want := range map[string]string{"new.example.com": "d", "a.stores.example.com": "a", "free.example.com": ""} {
		if got, err := r.HostHolder(ctx, host); err != nil || got != want {
			t.Errorf("holder of %s: %q %v, want %q", host, got, err, want)
		}
	}
	e := Live("e", "globex", 0, 2*time.Second)
	e.Host, e.LiveHost = "new.example.com", "new.example.com"
	if err := r.Insert(ctx, e); !errors.Is(err, store.ErrHostTaken) {
		t.Errorf("a new store on a held host: %v", err)
	}
	if _, err := r.Get(ctx, "e"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused store left a record: %v", err)
	}
	// The deletion of d gives its holds back.
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "d", Generation: 1, Phase: store.PhaseDeleting, Writer: store.WriterDelete, At: base.Add(3 * time.Second)}))
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "d", Generation: 1, Phase: store.PhaseDeleted, Writer: store.WriterDelete, At: base.Add(4 * time.Second)}))
	if got, err := r.HostHolder(ctx, "new.example.com"); err != nil || got != "" {
		t.Errorf("holder of a deleted store's held host: %q %v", got, err)
	}
	must(t, r.Insert(ctx, e))
}

// refusesOutOfOrder: a late or out-of-order writer changes nothing.
func refusesOutOfOrder(t *testing.T, r Repository) {
	ctx := t.Context()
	must(t, r.Insert(ctx, Live("shop", "acme", 0, 0)))
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	create := func(p store.Phase, s int) error {
		return r.UpdateStatus(ctx, store.StatusUpdate{Name: "shop", Generation: 1, Phase: p, Writer: store.WriterCreate, Message: string(p), At: at(s)})
	}
	del := func(p store.Phase, s int) error {
		return r.UpdateStatus(ctx, store.StatusUpdate{Name: "shop", Generation: 1, Phase: p, Writer: store.WriterDelete, Message: string(p), At: at(s)})
	}
	must(t, del(store.PhaseDeleting, 1))
	for _, p := range []store.Phase{store.PhaseProvisioning, store.PhaseFailed, store.PhaseReady, ""} {
		if err := create(p, 2); !errors.Is(err, store.ErrMoved) {
			t.Errorf("creation's %q over deleting: %v, want ErrMoved", p, err)
		}
	}
	if got := get(t, r, "shop"); got.Phase != store.PhaseDeleting || got.Message != "deleting" {
		t.Fatalf("after the creation's late writes: %s %q", got.Phase, got.Message)
	}
	must(t, del(store.PhaseDeleted, 3))
	must(t, del(store.PhaseDeleted, 3)) // a retried write that had committed
	for _, p := range []store.Phase{store.PhaseProvisioning, store.PhaseReady} {
		if err := create(p, 4); !errors.Is(err, store.ErrMoved) {
			t.Errorf("creation's %q over deleted: %v, want ErrMoved", p, err)
		}
	}
	if err := del(store.PhaseDeleting, 5); !errors.Is(err, store.ErrMoved) {
		t.Errorf("deleting over deleted: %v, want ErrMoved", err)
	}
	got := get(t, r, "shop")
	if got.Phase != store.PhaseDeleted || got.LiveHost != "deleted:shop" || got.Slot != "deleted:shop" {
		t.Fatalf("the deleted record: %s %q %q", got.Phase, got.LiveHost, got.Slot)
	}
}

func statusApplies(t *testing.T, r Repository) {
	ctx := t.Context()
	must(t, r.Insert(ctx, Live("shop", "acme", 0, 0)))
	at := base.Add(time.Minute)
	w := []store.Workload{{Kind: "Deployment", Name: "shop-wordpress", Ready: 1, Desired: 1}}
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "shop", Generation: 1, Phase: store.PhaseProvisioning, At: at.Add(-time.Second)}))
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "shop", Generation: 1, Phase: store.PhaseReady, Message: "store is ready",
		URL: "https://shop.stores.example.com", CreateWorkflowID: "store/shop/1/create", Workloads: w, At: at}))
	got := get(t, r, "shop")
	if got.Phase != store.PhaseReady || got.Message != "store is ready" || got.URL != "https://shop.stores.example.com" ||
		got.CreateWorkflowID != "store/shop/1/create" || len(got.Workloads) != 1 || got.Workloads[0] != w[0] ||
		!got.UpdatedAt.Equal(at) || got.ReadyAt == nil || !got.ReadyAt.Equal(at) {
		t.Fatalf("after ready: %+v", got)
	}
	// A message without a phase keeps the phase; the creation writes none
	// once the store is ready.
	if err := r.UpdateStatus(ctx, store.StatusUpdate{Name: "shop", Generation: 1, Message: "late note", At: at.Add(time.Second)}); !errors.Is(err, store.ErrMoved) {
		t.Fatalf("a creation's note on a ready store: %v", err)
	}
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "shop", Generation: 1, Phase: store.PhaseDeleting, Message: "deleting", DeleteWorkflowID: "store/shop/1/delete", At: at.Add(time.Second)}))
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "shop", Generation: 1, Message: "still fine", DeleteWorkflowID: "store/shop/1/delete", At: at.Add(time.Second)}))
	if got := get(t, r, "shop"); got.Phase != store.PhaseDeleting || got.Message != "still fine" {
		t.Fatalf("after a message: %+v", got)
	}
	// Applying the same update twice gives the same record.
	u := store.StatusUpdate{Name: "shop", Generation: 1, Phase: store.PhaseDeleting, Message: "deleting", DeleteWorkflowID: "store/shop/1/delete", At: at.Add(2 * time.Second)}
	must(t, r.UpdateStatus(ctx, u))
	once := get(t, r, "shop")
	must(t, r.UpdateStatus(ctx, u))
	if twice := get(t, r, "shop"); twice.Phase != once.Phase || twice.Message != once.Message || !twice.UpdatedAt.Equal(once.UpdatedAt) || twice.DeleteWorkflowID != "store/shop/1/delete" {
		t.Fatalf("twice %+v, once %+v", twice, once)
	}
}

func statusUpserts(t *testing.T, r Repository) {
	ctx := t.Context()
	spec := store.Spec{Name: "lost", Generation: 1, Engine: store.EngineMedusa, Host: "lost.example.com", Title: "Lost", MedusaImage: "m:1"}
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "lost", Generation: 1, Spec: &spec, Phase: store.PhaseProvisioning, Message: "creating", At: base}))
	got := get(t, r, "lost")
	if got.Generation != 1 || got.Engine != store.EngineMedusa || got.Host != "lost.example.com" || got.Title != "Lost" ||
		got.MedusaImage != "m:1" || got.Phase != store.PhaseProvisioning || got.Namespace != "store-lost" || !got.CreatedAt.Equal(base) {
		t.Fatalf("made %+v", got)
	}
}

func olderGeneration(t *testing.T, r Repository) {
	ctx := t.Context()
	first := Live("shop", "acme", 0, 0)
	must(t, r.Insert(ctx, first))
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "shop", Generation: 1, Phase: store.PhaseDeleting, Writer: store.WriterDelete, At: base.Add(time.Second)}))
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "shop", Generation: 1, Phase: store.PhaseDeleted, Writer: store.WriterDelete, Message: "store deleted", At: base.Add(time.Second)}))
	second := Live("shop", "acme", 0, 2*time.Second)
	second.Generation = 2
	stale := first
	stale.Generation = 7 // not the generation the record has
	if err := r.ReplaceDeleted(ctx, stale, second); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("replace of a record that is not as it was: %v", err)
	}
	deleted := get(t, r, "shop")
	must(t, r.ReplaceDeleted(ctx, deleted, second))
	// A late write of the deleted first store changes nothing.
	if err := r.UpdateStatus(ctx, store.StatusUpdate{Name: "shop", Generation: 1, Phase: store.PhaseDeleted, Writer: store.WriterDelete, Message: "late", At: base.Add(3 * time.Second)}); !errors.Is(err, store.ErrMoved) {
		t.Fatalf("a late write of an older generation: %v, want ErrMoved", err)
	}
	if got := get(t, r, "shop"); got.Generation != 2 || got.Phase != store.PhaseRequested || got.Message != "waiting" {
		t.Fatalf("after a late write: %+v", got)
	}
	if err := r.ReplaceDeleted(ctx, get(t, r, "shop"), second); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("replace of a live record: %v", err)
	}
}

func deletionReleases(t *testing.T, r Repository) {
	ctx := t.Context()
	must(t, r.Insert(ctx, Live("a", "acme", 0, 0)))
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "a", Generation: 1, Phase: store.PhaseDeleting, Writer: store.WriterDelete, At: base.Add(time.Second)}))
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "a", Generation: 1, Phase: store.PhaseDeleted, Writer: store.WriterDelete, At: base.Add(time.Second)}))
	again := Live("b", "globex", 0, 2*time.Second)
	again.LiveHost = "a.stores.example.com"
	must(t, r.Insert(ctx, again))
	if slot, ok, err := r.FreeSlot(ctx, "acme", 1); err != nil || !ok || slot != store.SlotOf("acme", 0) {
		t.Fatalf("slot after the deletion: %q %v %v", slot, ok, err)
	}
}

func listPages(t *testing.T, r Repository) {
	ctx := t.Context()
	for i := range 5 {
		must(t, r.Insert(ctx, Live(fmt.Sprintf("s%d", i), "acme", i, time.Duration(i)*time.Second)))
	}
	must(t, r.Insert(ctx, Live("other", "globex", 0, 9*time.Second)))
	for _, p := range []store.Phase{store.PhaseDeleting, store.PhaseDeleted} {
		must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "s2", Generation: 1, Phase: p, Writer: store.WriterDelete, At: base.Add(time.Minute)}))
	}
	var names []string
	cursor := ""
	for range 5 {
		page, next, err := r.List(ctx, store.ListQuery{Owner: "acme", Limit: 2, Cursor: cursor})
		must(t, err)
		for _, rec := range page {
			names = append(names, rec.Name)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(names) != "[s4 s3 s1 s0]" {
		t.Fatalf("pages %v, want [s4 s3 s1 s0]", names)
	}
	deleted, _, err := r.List(ctx, store.ListQuery{Owner: "acme", Phase: store.PhaseDeleted, Limit: 10})
	must(t, err)
	if len(deleted) != 1 || deleted[0].Name != "s2" {
		t.Fatalf("deleted %+v", deleted)
	}
	must(t, r.Insert(ctx, Live("s10", "acme", 2, 10*time.Second)))
	for owner, want := range map[string]int{"acme": 5, "globex": 1, "initech": 0} {
		if n, err := r.CountActive(ctx, owner); err != nil || n != want {
			t.Errorf("CountActive(%s) = %d, %v; want %d (deleted stores do not count)", owner, n, err, want)
		}
	}
	for _, tt := range []struct {
		q    store.ListQuery
		want string
	}{
		{store.ListQuery{NamePrefix: "s1", Limit: 10}, "[s10 s1]"},
		{store.ListQuery{NamePrefix: "s1", Limit: 1}, "[s10]"},
		{store.ListQuery{NamePrefix: "s", Owner: "globex", Limit: 10}, "[]"},
		{store.ListQuery{NamePrefix: "oth", Limit: 10}, "[other]"},
		{store.ListQuery{NamePrefix: "s2", Limit: 10}, "[]"},
		{store.ListQuery{NamePrefix: "s2", Phase: store.PhaseDeleted, Limit: 10}, "[s2]"},
		{store.ListQuery{NamePrefix: "x", Limit: 10}, "[]"},
	} {
		page, _, err := r.List(ctx, tt.q)
		must(t, err)
		got := []string{}
		for _, rec := range page {
			got = append(got, rec.Name)
		}
		if fmt.Sprint(got) != tt.want {
			t.Errorf("List(%+v) = %v, want %s", tt.q, got, tt.want)
		}
	}
}

func changedSince(t *testing.T, r Repository) {
	ctx := t.Context()
	for i, n := range []string{"a", "b", "c"} {
		owner := "acme"
		if n == "c" {
			owner = "globex"
		}
		must(t, r.Insert(ctx, Live(n, owner, i, time.Duration(i)*time.Second)))
	}
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "a", Generation: 1, Message: "changed", At: base.Add(5 * time.Second)}))
	got, err := r.Changed(ctx, store.ChangeQuery{Owner: "acme", Since: base})
	must(t, err)
	if len(got) != 2 || got[0].Name != "b" || got[1].Name != "a" {
		t.Fatalf("changed since the start: %+v", got)
	}
	got, err = r.Changed(ctx, store.ChangeQuery{Name: "c", Since: base})
	must(t, err)
	if len(got) != 1 || got[0].Name != "c" {
		t.Fatalf("changed of one store: %+v", got)
	}
}

func requested(t *testing.T, r Repository) {
	ctx := t.Context()
	must(t, r.Insert(ctx, Live("a", "acme", 0, 0)))
	must(t, r.Insert(ctx, Live("b", "acme", 1, time.Second)))
	must(t, r.UpdateStatus(ctx, store.StatusUpdate{Name: "b", Generation: 1, Phase: store.PhaseProvisioning, At: base.Add(time.Minute)}))
	got, err := r.Requested(ctx)
	must(t, err)
	if len(got) != 1 || got[0].Name != "a" {
		t.Fatalf("requested %+v", got)
	}
}
