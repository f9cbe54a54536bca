package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/store"
)

// platformOne creates one store through the API with the admin token and
// returns the time from the request to the record's readyAt (to the poll
// that saw it ready when the record has none). GET /api/stores/{name} is
// polled every 200 ms.
func (e *env) platformOne(ctx context.Context, c *apiclient.Client, name string) (time.Duration, error) {
	t0 := time.Now()
	if _, err := createStore(ctx, c, e.adminTok, name); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(e.o.Timeout)
	for {
		rec, err := c.GetStore(ctx, e.adminTok, name)
		if err != nil {
			return 0, err
		}
		switch rec.Phase {
		case store.PhaseReady:
			if rec.ReadyAt != nil && rec.ReadyAt.After(t0) {
				return rec.ReadyAt.Sub(t0), nil
			}
			return time.Since(t0), nil
		case store.PhaseFailed:
			return 0, fmt.Errorf("store %s failed: %s", name, rec.Message)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("store %s not ready after %s (phase %s)", name, e.o.Timeout, rec.Phase)
		}
		apiclient.Sleep(ctx, 200*time.Millisecond)
	}
}

// platformCreate sends one POST /api/stores per name at once (each with its
// own token: a token may send 10 requests a second) and waits until every
// record is ready, listing the stores every second with the admin token as
// a dashboard would. It returns each store's time from the start to its
// readyAt, and how long the last POST took to be answered.
func (e *env) platformCreate(ctx context.Context, c *apiclient.Client, names, toks []string) (times []time.Duration, answered time.Duration, err error) {
	t0 := time.Now()
	var mu sync.Mutex
	err = inParallel(len(names), func(i int) error {
		_, err := createStore(ctx, c, toks[i], names[i])
		mu.Lock()
		answered = max(answered, time.Since(t0))
		mu.Unlock()
		return err
	})
	if err != nil {
		return nil, answered, err
	}
	want := map[string]int{}
	for i, n := range names {
		want[n] = i
	}
	times = make([]time.Duration, len(names))
	done := 0
	deadline := t0.Add(e.o.Timeout)
	for done < len(names) {
		recs, err := c.List(ctx, e.adminTok, "")
		if err != nil {
			return nil, answered, err
		}
		for _, rec := range recs {
			i, ok := want[rec.Name]
			if !ok || times[i] != 0 {
				continue
			}
			switch rec.Phase {
			case store.PhaseReady:
				if rec.ReadyAt != nil && rec.ReadyAt.After(t0) {
					times[i] = rec.ReadyAt.Sub(t0)
				} else {
					times[i] = time.Since(t0)
				}
				done++
			case store.PhaseFailed:
				return nil, answered, fmt.Errorf("store %s failed: %s", rec.Name, rec.Message)
			}
		}
		if done == len(names) {
			break
		}
		if time.Now().After(deadline) {
			return nil, answered, fmt.Errorf("%d of %d stores ready after %s", done, len(names), e.o.Timeout)
		}
		apiclient.Sleep(ctx, time.Second)
	}
	return times, answered, nil
}

// platformDelete sends one DELETE per store at once and waits until every
// record is deleted and every namespace is gone; a store's time is the
// later of the two.
func (e *env) platformDelete(ctx context.Context, c *apiclient.Client, names, toks []string) ([]time.Duration, error) {
	t0 := time.Now()
	if err := inParallel(len(names), func(i int) error { return c.DeleteStore(ctx, toks[i], names[i]) }); err != nil {
		return nil, err
	}
	nss := make([]string, len(names))
	for i, n := range names {
		nss[i] = store.NamespaceFor(n)
	}
	var nsTimes []time.Duration
	var nsErr error
	var wg sync.WaitGroup
	wg.Go(func() { nsTimes, nsErr = e.waitNamespacesGone(ctx, nss, t0) })
	want := map[string]int{}
	for i, n := range names {
		want[n] = i
	}
	times := make([]time.Duration, len(names))
	done := 0
	deadline := t0.Add(e.o.Timeout)
	var err error
	for done < len(names) && err == nil {
		var recs []store.Record
		if recs, err = c.List(ctx, e.adminTok, string(store.PhaseDeleted)); err != nil {
			break
		}
		for _, rec := range recs {
			if i, ok := want[rec.Name]; ok && times[i] == 0 {
				times[i] = time.Since(t0)
				if rec.DeletedAt != nil && rec.DeletedAt.After(t0) {
					times[i] = rec.DeletedAt.Sub(t0)
				}
				done++
			}
		}
		if done < len(names) {
			if time.Now().After(deadline) {
				err = fmt.Errorf("%d of %d stores deleted after %s", done, len(names), e.o.Timeout)
			}
			apiclient.Sleep(ctx, time.Second)
		}
	}
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if nsErr != nil {
		return nil, nsErr
	}
	for i := range times {
		times[i] = max(times[i], nsTimes[i])
	}
	return times, nil
}

// waitNamespacesGone polls the namespaces every 500 ms until none of nss
// exists, and returns when each was first seen gone, from t0.
func (e *env) waitNamespacesGone(ctx context.Context, nss []string, t0 time.Time) ([]time.Duration, error) {
	times := make([]time.Duration, len(nss))
	deadline := t0.Add(e.o.Timeout)
	for {
		list, err := e.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		exists := map[string]bool{}
		for _, ns := range list.Items {
			exists[ns.Name] = true
		}
		left := 0
		for i, ns := range nss {
			if times[i] != 0 {
				continue
			}
			if exists[ns] {
				left++
			} else {
				times[i] = time.Since(t0)
			}
		}
		if left == 0 {
			return times, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d namespaces still there after %s", left, len(nss), e.o.Timeout)
		}
		apiclient.Sleep(ctx, 500*time.Millisecond)
	}
}

// createStore asks for a small WooCommerce store; an answer other than
// 200, 201 or 202 is an error.
func createStore(ctx context.Context, c *apiclient.Client, token, name string) (apiclient.Answer, error) {
	a, err := c.CreateStore(ctx, token, "Bench", name)
	if err == nil && a.Status != http.StatusAccepted && a.Status != http.StatusOK && a.Status != http.StatusCreated {
		err = fmt.Errorf("POST /api/stores %s: %d %.300s", name, a.Status, a.Body)
	}
	return a, err
}
