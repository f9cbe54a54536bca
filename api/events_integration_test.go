package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/store"
)

// followAll reads /api/events as tenant until every store in names was
// sent ready, and returns the last phase it was sent of each.
func (p *platform) followAll(ctx context.Context, tenant string, names map[string]bool, opened chan<- struct{}) (map[string]store.Phase, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+p.tokens[tenant])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("stream: %d", resp.StatusCode)
	}
	opened <- struct{}{}
	seen := map[string]store.Phase{}
	ready := 0
	event := ""
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || event != "store" {
			continue
		}
		var rec store.Record
		if err := json.Unmarshal([]byte(data), &rec); err != nil {
			return seen, err
		}
		if !names[rec.Name] {
			continue
		}
		if seen[rec.Name] != store.PhaseReady && rec.Phase == store.PhaseReady {
			ready++
		}
		seen[rec.Name] = rec.Phase
		if ready == len(names) {
			return seen, nil
		}
	}
	return seen, fmt.Errorf("the stream ended: %v", sc.Err())
}

// TestEveryStreamSeesEveryFinalState: 20 stores created at once while 5
// streams are open; every stream is sent every store's ready record, though
// the workers' writes commit in another order than their stamps.
func TestEveryStreamSeesEveryFinalState(t *testing.T) {
	p := newPlatform(t, func(o *api.Options) { o.StoreLimit = 25; o.RatePerSecond, o.RateBurst = 100, 100 })
	const stores, streams = 20, 5
	prefix := fmt.Sprintf("f%d", time.Now().UnixNano()%1_000_000)
	names := map[string]bool{}
	for i := range stores {
		names[fmt.Sprintf("%s-%02d", prefix, i)] = true
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	type result struct {
		seen map[string]store.Phase
		err  error
	}
	results := make(chan result, streams)
	opened := make(chan struct{}, streams)
	for range streams {
		go func() {
			seen, err := p.followAll(ctx, "acme", names, opened)
			results <- result{seen, err}
		}()
	}
	for range streams {
		select {
		case <-opened:
		case r := <-results:
			t.Fatalf("a stream did not open: %v", r.err)
		}
	}
	var wg sync.WaitGroup
	for name := range names {
		wg.Go(func() {
			body := `{"name":"` + name + `","engine":"medusa","medusaImage":"registry.example.com/acme/medusa:1.0.0"}`
			if code, data := p.call(t, "acme", http.MethodPost, "/api/stores", body); code != http.StatusAccepted {
				t.Errorf("create %s: %d %s", name, code, data)
			}
		})
	}
	wg.Wait()
	for i := range streams {
		r := <-results
		if r.err != nil {
			var missing []string
			for name := range names {
				if r.seen[name] != store.PhaseReady {
					missing = append(missing, name+"="+string(r.seen[name]))
				}
			}
			// What the stream missed may be ready in MongoDB: then the
			// stream, not the stores, failed.
			t.Fatalf("stream %d: %v; last phases sent of the stores not sent ready: %v", i, r.err, missing)
		}
	}
}
