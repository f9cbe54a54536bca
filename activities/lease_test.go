package activities

import (
	"errors"
	"testing"
	"time"
)

// TestLeaseFenceTrustsOnlyARecentRenewal: the fence lets an attempt write
// while its last renewal was sent less than three quarters of the lease
// ago by its own monotonic clock, and never once the lease was lost or
// given back, whatever the renewals.
func TestLeaseFenceTrustsOnlyARecentRenewal(t *testing.T) {
	l := &releaseLease{ns: "store-shop", name: LeasePrefix + "shop", duration: 4 * time.Second}
	for _, tt := range []struct {
		renewedAgo time.Duration
		lost       error
		allowed    bool
	}{
		{0, nil, true},
		{2 * time.Second, nil, true},
		{3 * time.Second, nil, false}, // a paused process resumed: its renewal is stale
		{time.Minute, nil, false},
		{0, errGivenBack, false},
	} {
		l.hold(nil, time.Now().Add(-tt.renewedAgo))
		l.lost = tt.lost
		err := l.check()
		if (err == nil) != tt.allowed {
			t.Errorf("renewed %s ago, lost %v: fence %v, want allowed %v", tt.renewedAgo, tt.lost, err, tt.allowed)
		}
		if tt.lost != nil && !errors.Is(err, tt.lost) {
			t.Errorf("lost %v: fence says %v", tt.lost, err)
		}
	}
}
