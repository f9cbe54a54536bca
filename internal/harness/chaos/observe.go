package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/store"
)

// records reads the records of the stores called names (all records when
// names is nil) straight from MongoDB.
func (c *conns) records(ctx context.Context, names []string) (map[string]store.Record, error) {
	filter := bson.M{}
	if names != nil {
		filter = bson.M{"name": bson.M{"$in": names}}
	}
	cur, err := c.DB.Collection(store.CollectionName).Find(ctx, filter)
	if err != nil {
		return nil, err
	}
	var recs []store.Record
	if err := cur.All(ctx, &recs); err != nil {
		return nil, err
	}
	out := make(map[string]store.Record, len(recs))
	for _, r := range recs {
		out[r.Name] = r
	}
	return out, nil
}

// settled reports whether a store in phase p has nothing left to do by
// itself: it reached want, or a phase it leaves only on a signal that
// nobody sends here (failed and degraded wait for retry, deletion_stuck
// for retry or force). A creation canceled by a deletion passes through
// failed on its way to deleted, so failed settles only a store that
// should end ready.
func settled(p, want store.Phase) bool {
	if want == store.PhaseDeleted {
		return p == store.PhaseDeleted || p == store.PhaseDeletionStuck
	}
	return p == want || p == store.PhaseFailed || p == store.PhaseDegraded
}

// waitSettled polls the records of want's stores until each has settled
// (see settled) or the deadline passes, logging progress, and returns the
// last records it read.
func waitSettled(ctx context.Context, c *conns, want map[string]store.Phase, deadline time.Time, log *slog.Logger, label string) map[string]store.Record {
	names := sortedKeys(want)
	var recs map[string]store.Record
	lastLog := time.Time{}
	for {
		r, err := c.records(ctx, names)
		if err == nil {
			recs = r
		}
		done, byPhase := 0, map[store.Phase]int{}
		for _, n := range names {
			rec, ok := recs[n]
			if ok && settled(rec.Phase, want[n]) {
				done++
			}
			if ok {
				byPhase[rec.Phase]++
			} else {
				byPhase["(no record)"]++
			}
		}
		if done == len(names) || time.Now().After(deadline) || ctx.Err() != nil {
			return recs
		}
		if time.Since(lastLog) > 15*time.Second {
			log.Info(label+": waiting", "settled", fmt.Sprintf("%d/%d", done, len(names)), "phases", phaseSummary(byPhase), "read_error", errString(err))
			lastLog = time.Now()
		}
		apiclient.Sleep(ctx, time.Second)
	}
}

func phaseSummary(m map[store.Phase]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// secretWatch polls the stores' credentials Secrets and keeps the values
// each key had when first seen, every value ever seen (for the log scan),
// and every key whose value changed.
type secretWatch struct {
	c *conns

	mu      sync.Mutex
	first   map[string]map[string]string // namespace/name -> key -> value when first seen
	last    map[string]map[string]string // namespace/name -> key -> value when last seen
	changed map[string][]string          // namespace/name -> "key at time"
	values  map[string]string            // every value seen -> its store
	polls   int
	errs    int
}

func newSecretWatch(c *conns) *secretWatch {
	return &secretWatch{c: c, first: map[string]map[string]string{}, last: map[string]map[string]string{},
		changed: map[string][]string{}, values: map[string]string{}}
}

// run polls every interval until ctx ends.
func (w *secretWatch) run(ctx context.Context, interval time.Duration) {
	for ctx.Err() == nil {
		w.poll(ctx)
		apiclient.Sleep(ctx, interval)
	}
}

func (w *secretWatch) poll(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	w.mu.Lock()
	c := w.c
	w.mu.Unlock()
	list, err := c.Kube.CoreV1().Secrets("").List(pctx, metav1.ListOptions{LabelSelector: activities.LabelManagedBy + "=" + activities.ManagedBy})
	w.mu.Lock()
	defer w.mu.Unlock()
	w.polls++
	if err != nil {
		w.errs++
		return
	}
	for _, s := range list.Items {
		if s.Labels[activities.LabelStore] == "" {
			continue
		}
		key := s.Namespace + "/" + s.Name
		if w.first[key] == nil {
			w.first[key], w.last[key] = map[string]string{}, map[string]string{}
		}
		first, last := w.first[key], w.last[key]
		for k, v := range s.Data {
			val := string(v)
			w.values[val] = s.Labels[activities.LabelStore]
			if _, had := first[k]; !had {
				first[k] = val
			}
			if old, had := last[k]; had && old != val {
				w.changed[key] = append(w.changed[key], k+" at "+time.Now().Format(time.TimeOnly))
			}
			last[k] = val
		}
	}
}

// setConns makes the watch read the cluster through c from now on: the
// same cluster, reached again after its stack was restarted.
func (w *secretWatch) setConns(c *conns) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.c = c
}

// firstValues is what the Secret namespace/name held when first seen (nil:
// never seen).
func (w *secretWatch) firstValues(key string) map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.first[key])
}

// changes are the keys of namespace/name whose value changed while watched.
func (w *secretWatch) changes(key string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.changed[key]...)
}

// owners maps every credential value seen to its store.
func (w *secretWatch) owners() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.values)
}
