package api

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/store/storetest"
)

// fakeStores is an in-memory StoreRepository for handler tests.
type fakeStores struct {
	mu   sync.Mutex
	recs map[string]store.Record
	// holds are the hosts stores hold besides their own: host -> holder.
	holds map[string]store.Record
	// fail, when set, is returned by every call.
	fail error
	// changedCalls counts the reads of Changed (the event streams' queries).
	changedCalls int
	// countCalls counts the calls of CountByPhase (a scan per phase on
	// MongoDB).
	countCalls int
}

var _ StoreRepository = (*fakeStores)(nil)

func newFakeStores() *fakeStores {
	return &fakeStores{recs: map[string]store.Record{}, holds: map[string]store.Record{}}
}

func (f *fakeStores) Get(_ context.Context, name string) (store.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return store.Record{}, f.fail
	}
	r, ok := f.recs[name]
	if !ok {
		return r, store.ErrNotFound
	}
	return r, nil
}

func (f *fakeStores) Insert(_ context.Context, rec store.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	if _, ok := f.recs[rec.Name]; ok {
		return store.ErrConflict
	}
	if err := f.unique(rec); err != nil {
		return err
	}
	rec.ID = bson.NewObjectID()
	f.recs[rec.Name] = rec
	return nil
}

// unique refuses rec's claims when another record holds one, as
// MongoRepository's unique indexes do. f.mu is held.
func (f *fakeStores) unique(rec store.Record) error {
	for _, r := range f.recs {
		if r.Name == rec.Name {
			continue
		}
		if rec.LiveHost != "" && r.LiveHost == rec.LiveHost {
			return store.ErrHostTaken
		}
		if rec.Slot != "" && r.Slot == rec.Slot {
			return store.ErrSlotTaken
		}
	}
	if h, ok := f.holds[rec.LiveHost]; ok && h.Name != rec.Name {
		return store.ErrHostTaken
	}
	return nil
}

func (f *fakeStores) ReplaceDeleted(_ context.Context, old, rec store.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.recs[old.Name]
	if !ok || cur.Generation != old.Generation || cur.Phase != store.PhaseDeleted {
		return store.ErrConflict
	}
	if err := f.unique(rec); err != nil {
		return err
	}
	rec.ID = bson.NewObjectID()
	f.recs[rec.Name] = rec
	return nil
}

func (f *fakeStores) List(_ context.Context, q store.ListQuery) ([]store.Record, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Record
	for _, r := range f.recs {
		if (q.Owner == "" || r.Owner == q.Owner) && (r.Phase == q.Phase || (q.Phase == "" && r.Phase != store.PhaseDeleted)) && (q.Engine == "" || r.Engine == q.Engine) && strings.HasPrefix(r.Name, q.NamePrefix) {
			if q.Cursor == "" || r.ID.Hex() < q.Cursor {
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID.Hex() > out[j].ID.Hex() })
	next := ""
	if len(out) > q.Limit {
		out = out[:q.Limit]
		next = out[q.Limit-1].ID.Hex()
	}
	return out, next, nil
}

func (f *fakeStores) CountActive(_ context.Context, owner string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.recs {
		if r.Owner == owner && r.Phase != store.PhaseDeleted {
			n++
		}
	}
	return n, nil
}

func (f *fakeStores) FreeSlot(_ context.Context, owner string, limit int) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	taken, live := map[string]bool{}, 0
	for _, r := range f.recs {
		if r.Owner == owner && r.Phase != store.PhaseDeleted {
			taken[r.Slot] = true
			live++
		}
	}
	if live >= limit {
		return "", false, nil
	}
	s, ok := store.PickFreeSlot(owner, limit, taken)
	return s, ok, nil
}

func (f *fakeStores) HoldHost(_ context.Context, name string, generation int, host string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h, ok := f.holds[host]; ok && (h.Name != name || h.Generation != generation) {
		return store.ErrHostTaken
	}
	for _, r := range f.recs {
		if r.Name != name && r.LiveHost == host {
			return store.ErrHostTaken
		}
	}
	f.holds[host] = store.Record{Spec: store.Spec{Name: name, Generation: generation}}
	return nil
}

func (f *fakeStores) HostHolder(_ context.Context, host string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h, ok := f.holds[host]; ok {
		return h.Name, nil
	}
	for _, r := range f.recs {
		if r.LiveHost == host {
			return r.Name, nil
		}
	}
	return "", nil
}

func (f *fakeStores) UpdateStatus(_ context.Context, u store.StatusUpdate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[u.Name]
	var cur *store.Record
	if ok {
		cur = &r
	}
	action, err := store.CheckStatus(cur, u)
	if err != nil {
		return err
	}
	if action != store.StatusApply {
		// A record made here (its API record is lost) claims nothing.
		r = store.Record{ID: bson.NewObjectID(), Spec: store.Spec{Name: u.Name, Generation: u.Generation}, CreatedAt: u.At,
			Claim: store.Claim{LiveHost: "unclaimed:" + u.Name, Slot: "unclaimed:" + u.Name}}
		r.Engine, r.Host, r.Title, r.AdminEmail = u.Spec.Engine, u.Spec.Host, u.Spec.Title, u.Spec.AdminEmail
		r.MedusaImage, r.Size, r.ChartVersion, r.Tenant = u.Spec.MedusaImage, u.Spec.Size, u.Spec.ChartVersion, u.Spec.Tenant
	}
	r.UpdatedAt, r.Namespace = u.At, store.NamespaceFor(u.Name)
	if u.Phase != "" {
		r.Phase, r.Message, r.Blockers = u.Phase, u.Message, u.Blockers
		switch u.Phase {
		case store.PhaseReady:
			at := u.At
			r.ReadyAt = &at
		case store.PhaseDeleted:
			at := u.At
			r.DeletedAt = &at
			r.Claim = store.Claim{LiveHost: "deleted:" + r.Name, Slot: "deleted:" + r.Name}
			for h, holder := range f.holds {
				if holder.Name == r.Name && holder.Generation == r.Generation {
					delete(f.holds, h)
				}
			}
		}
	} else if u.Message != "" {
		r.Message = u.Message
	}
	if u.URL != "" {
		r.URL = u.URL
	}
	if u.Workloads != nil {
		r.Workloads = u.Workloads
	}
	if u.CreateWorkflowID != "" {
		r.CreateWorkflowID = u.CreateWorkflowID
	}
	if u.DeleteWorkflowID != "" {
		r.DeleteWorkflowID = u.DeleteWorkflowID
	}
	f.recs[u.Name] = r
	return nil
}

func (f *fakeStores) Requested(_ context.Context) ([]store.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Record
	for _, r := range f.recs {
		if r.Phase == store.PhaseRequested {
			out = append(out, r)
		}
	}
	return out, nil
}

// fakeTokens knows a fixed set of tokens.
type fakeTokens map[string]auth.Token

var _ TokenVerifier = fakeTokens(nil)

func (f fakeTokens) Verify(_ context.Context, token string) (auth.Token, error) {
	t, ok := f[token]
	if !ok {
		return auth.Token{}, auth.ErrInvalidToken
	}
	return t, nil
}

// bsonID makes ordered object IDs for tests.
func bsonID(n byte) bson.ObjectID {
	var id bson.ObjectID
	id[11] = n
	return id
}

func (f *fakeStores) Changed(_ context.Context, q store.ChangeQuery) ([]store.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changedCalls++
	var out []store.Record
	for _, r := range f.recs {
		if r.UpdatedAt.After(q.Since) && (q.Owner == "" || r.Owner == q.Owner) && (q.Name == "" || r.Name == q.Name) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UpdatedAt.Before(out[j].UpdatedAt) })
	return out, nil
}

// set replaces a record, as a workflow's status write would.
func (f *fakeStores) set(r store.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs[r.Name] = r
}

func (f *fakeStores) CountByPhase(_ context.Context) (map[store.Phase]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.countCalls++
	out := map[store.Phase]int{}
	for _, r := range f.recs {
		out[r.Phase]++
	}
	return out, nil
}

// CurrentChartVersion answers as the repository does before any rollout.
func (f *fakeStores) CurrentChartVersion(context.Context) (string, error) { return "", nil }

// TestFakeStoresKeepTheContract: the handler tests' stand-in behaves like
// MongoRepository, which runs the same contract on the real database.
func TestFakeStoresKeepTheContract(t *testing.T) {
	storetest.Contract(t, func(*testing.T) storetest.Repository { return newFakeStores() })
}
