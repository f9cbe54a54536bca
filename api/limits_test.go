package api

import (
	"fmt"
	"testing"
	"time"
)

// TestLimitsForgetIdleTokens: memory holds only the tokens seen within one
// refill time (before, one bucket per token ever seen was kept), and a
// forgotten bucket gives no more than a full one would have.
func TestLimitsForgetIdleTokens(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	l := newLimits(10, 20, func() time.Time { return now }) // refills in 2 s
	for i := 0; i < 10*sweepAbove; i++ {
		if _, ok := l.allow(fmt.Sprintf("tok-%d", i)); !ok {
			t.Fatalf("token %d refused its first request", i)
		}
		if i%100 == 99 {
			now = now.Add(time.Second)
		}
	}
	// 100 new tokens a second, each idle after one request: at most the
	// tokens of the last refill time (and one sweep interval) are held.
	if n := l.size(); n > sweepAbove+300 {
		t.Fatalf("%d buckets held for %d tokens", n, 10*sweepAbove)
	}

	// A busy token keeps its bucket: its burst is spent and it is refused.
	for i := 0; i < 20; i++ {
		if _, ok := l.allow("busy"); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	wait, ok := l.allow("busy")
	if ok || wait <= 0 {
		t.Fatalf("21st request: ok=%v wait=%v", ok, wait)
	}
	// Others come and go past the sweep; "busy" is swept only once full.
	now = now.Add(time.Second)
	for i := 0; i < 2*sweepAbove; i++ {
		l.allow(fmt.Sprintf("other-%d", i))
	}
	if _, ok := l.allow("busy"); !ok {
		t.Fatal("after 1 s (10 tokens refilled) the busy token is still refused")
	}
}
