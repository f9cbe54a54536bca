package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/deps"
	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/platform"
	"github.com/storeplatform/storeplatform/internal/store"
)

// latencies are the times of a row's requests and the statuses they got.
type latencies struct {
	times    []time.Duration
	statuses map[int]int
}

// quantile is the q-quantile (0..1) of the times, nearest rank.
func (l latencies) quantile(q float64) time.Duration {
	if len(l.times) == 0 {
		return 0
	}
	ts := slices.Clone(l.times)
	slices.Sort(ts)
	i := int(q*float64(len(ts))+0.999999) - 1
	return ts[min(max(i, 0), len(ts)-1)]
}

// postLatency sends requests POST /api/stores from clients concurrent
// clients, each with its own token, and times each answer: of one tenant
// (tenant set) or of a tenant each. The worker must be stopped first: the
// stores are requested, and their workflows queued, but none is made.
func (e *env) postLatency(ctx context.Context, c *apiclient.Client, tenant string, clients, requests int) (latencies, error) {
	var toks []string
	var err error
	prefix := "post-"
	if tenant != "" {
		toks, err = e.tokens(ctx, tenant, clients)
		prefix = "post1-"
	} else {
		toks, err = e.tenantTokens(ctx, "bench-post", clients)
	}
	if err != nil {
		return latencies{}, err
	}
	l := latencies{statuses: map[int]int{}}
	var mu sync.Mutex
	var next atomic.Int64
	err = inParallel(clients, func(k int) error {
		for {
			i := int(next.Add(1)) - 1
			if i >= requests {
				return nil
			}
			t0 := time.Now()
			a, err := c.Once(ctx, toks[k], http.MethodPost, "/api/stores", map[string]any{
				"name": fmt.Sprintf("%s%04d", prefix, i), "engine": store.EngineWooCommerce})
			if err != nil && ctx.Err() != nil {
				return err
			}
			if err != nil {
				// No answer within the client's timeout: counted as
				// status 0 with the time waited.
				a = apiclient.Answer{Elapsed: time.Since(t0)}
			}
			mu.Lock()
			l.times = append(l.times, a.Elapsed)
			l.statuses[a.Status]++
			mu.Unlock()
		}
	})
	return l, err
}

// fillRecords inserts ready records straight into the API's collection
// until tenant has tenantN stores and there are total in all: the other
// tenant's records make up the rest. The records name fake namespaces.
func (e *env) fillRecords(ctx context.Context, tenant string, tenantN, total int) error {
	coll := e.db.Collection(store.CollectionName)
	have, err := coll.CountDocuments(ctx, bson.M{})
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	var batch []any
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := coll.InsertMany(ctx, batch)
		batch = batch[:0]
		return err
	}
	others := max(total-tenantN-int(have), 0)
	for i := range tenantN + others {
		owner, name := tenant, fmt.Sprintf("list-%05d", i)
		if i >= tenantN {
			owner = "bench-others"
		}
		spec := e.specFor(name, owner)
		at := now.Add(time.Duration(i) * time.Millisecond)
		batch = append(batch, store.Record{
			ID: bson.NewObjectID(), Spec: spec, Owner: owner, Phase: store.PhaseReady, Namespace: "fake-" + name,
			URL: "http://" + spec.Host, CreatedAt: at, UpdatedAt: at, ReadyAt: &at,
			Claim: store.Claim{LiveHost: "bench:" + name, Slot: "bench:" + name},
		})
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// listLatency times requests GET /api/stores?limit=20 (the dashboard's
// first page) of tenant, one after another, with tokens taking turns; it
// stops early, after at least 20, once budget has passed.
func (e *env) listLatency(ctx context.Context, c *apiclient.Client, tenant string, requests int, budget time.Duration) (latencies, error) {
	toks, err := e.tokens(ctx, tenant, max(requests/20, 1))
	if err != nil {
		return latencies{}, err
	}
	l := latencies{statuses: map[int]int{}}
	start := time.Now()
	for i := range requests {
		if i >= 20 && time.Since(start) > budget {
			break
		}
		a, err := c.Once(ctx, toks[i%len(toks)], http.MethodGet, "/api/stores?limit=20", nil)
		if err != nil {
			return l, err
		}
		l.times = append(l.times, a.Elapsed)
		l.statuses[a.Status]++
	}
	return l, nil
}

// eventQueries counts the MongoDB find commands per second that an API
// serving n open GET /api/events streams of tenant sends, over window. The
// API is an in-process api.Router on the same database (the separate api
// process's queries cannot be counted from outside): its own MongoDB client
// has a CommandMonitor.
func (e *env) eventQueries(ctx context.Context, tenant string, counts []int, window time.Duration) ([]float64, error) {
	var finds atomic.Int64
	mon := &event.CommandMonitor{Started: func(_ context.Context, ev *event.CommandStartedEvent) {
		if ev.CommandName == "find" {
			finds.Add(1)
		}
	}}
	mc, err := mongo.Connect(options.Client().ApplyURI(e.stack.MongoURI()).SetMonitor(mon))
	if err != nil {
		return nil, err
	}
	defer func() { _ = mc.Disconnect(context.WithoutCancel(ctx)) }()
	d := &deps.Deps{Mongo: mc, DB: mc.Database(e.cfg.MongoDB), Temporal: e.temporal, Kube: e.kube, KubeConfig: e.rest}
	o, err := platform.APIOptions(ctx, e.cfg, d, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	o.Stop = stop
	srv := httptest.NewServer(api.Router(o))
	defer srv.Close()
	defer close(stop)
	var out []float64
	for _, n := range counts {
		toks, err := e.tokens(ctx, tenant, n)
		if err != nil {
			return nil, err
		}
		sctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for k := range n {
			wg.Go(func() {
				req, err := http.NewRequestWithContext(sctx, http.MethodGet, srv.URL+"/api/events", nil)
				if err != nil {
					return
				}
				req.Header.Set("Authorization", "Bearer "+toks[k])
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				defer resp.Body.Close()
				_, _ = io.Copy(io.Discard, resp.Body)
			})
		}
		// The streams send their snapshots first (with many records on the
		// embedded store, a query each that reads them all, so 50 take a
		// while); then they only wait for the feed. The window starts once
		// two seconds pass with no more finds than the feed's own ticks.
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && ctx.Err() == nil; {
			a := finds.Load()
			apiclient.Sleep(ctx, 2*time.Second)
			if finds.Load()-a <= 3 {
				break
			}
		}
		before := finds.Load()
		t0 := time.Now()
		apiclient.Sleep(ctx, window)
		out = append(out, float64(finds.Load()-before)/time.Since(t0).Seconds())
		cancel()
		wg.Wait()
	}
	return out, ctx.Err()
}

// ListFloor is the embedded store's own time for a tenant's first page of
// limit records, straight through the driver (median of a few tries): the
// query the API sends (the tenant's live records, newest first, limit+1),
// and limit+1 finds by _id one after another, the one filter FerretDB's
// SQLite backend answers without decoding every document.
type ListFloor struct {
	Query, ByID time.Duration
	Limit       int
}

func (e *env) listFloor(ctx context.Context, tenant string, limit int) (ListFloor, error) {
	coll := e.db.Collection(store.CollectionName)
	filter := bson.M{"owner": tenant, "phase": bson.M{"$ne": store.PhaseDeleted}}
	page := func() ([]bson.Raw, error) {
		cur, err := coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit+1)))
		if err != nil {
			return nil, err
		}
		var out []bson.Raw
		return out, cur.All(ctx, &out)
	}
	var query, byID []time.Duration
	for range 5 {
		t0 := time.Now()
		docs, err := page()
		if err != nil {
			return ListFloor{}, err
		}
		query = append(query, time.Since(t0))
		t0 = time.Now()
		for _, d := range docs {
			if err := coll.FindOne(ctx, bson.M{"_id": d.Lookup("_id")}).Err(); err != nil {
				return ListFloor{}, err
			}
		}
		byID = append(byID, time.Since(t0))
	}
	return ListFloor{Query: median(query), ByID: median(byID), Limit: limit}, nil
}
