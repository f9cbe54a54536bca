package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/internal/store"
)

// TestEnsureInstallationIDIsMadeOnce: workers starting at once on a new
// database agree on one identity, and every later start reads it back; a
// fresh database is another installation.
func TestEnsureInstallationIDIsMadeOnce(t *testing.T) {
	env.Require(t)
	db := env.Mongo.Database(fmt.Sprintf("installation_test_%d", time.Now().UnixNano()))
	const starts = 4
	ids := make([]string, starts)
	errs := make([]error, starts)
	var wg sync.WaitGroup
	for i := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], errs[i] = store.EnsureInstallationID(t.Context(), db)
		}()
	}
	wg.Wait()
	later, err := store.EnsureInstallationID(t.Context(), db)
	fresh, ferr := store.EnsureInstallationID(t.Context(), env.Mongo.Database(db.Name()+"_fresh"))
	for i := range starts {
		if errs[i] != nil || ids[i] != later || !store.ValidInstallationID(ids[i]) {
			t.Fatalf("start %d: %q %v; later start: %q %v", i, ids[i], errs[i], later, err)
		}
	}
	if ferr != nil || fresh == later {
		t.Fatalf("a fresh database got %q (%v), the first %q", fresh, ferr, later)
	}
}
