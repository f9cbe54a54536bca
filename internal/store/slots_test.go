package store

import "testing"

func TestPickFreeSlot(t *testing.T) {
	for _, tt := range []struct {
		name   string
		limit  int
		taken  []int
		wantOK bool
		free   []int
	}{
		{"all taken", 2, []int{0, 1}, false, nil},
		{"limit 0", 0, nil, false, nil},
		{"none taken", 3, nil, true, []int{0, 1, 2}},
		{"one free", 3, []int{0, 2}, true, []int{1}},
		{"several free", 5, []int{1, 3}, true, []int{0, 2, 4}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			taken := map[string]bool{}
			for _, k := range tt.taken {
				taken[SlotOf("acme", k)] = true
			}
			allowed := map[string]bool{}
			for _, k := range tt.free {
				allowed[SlotOf("acme", k)] = true
			}
			seen := map[string]bool{}
			for range 200 {
				s, ok := PickFreeSlot("acme", tt.limit, taken)
				if ok != tt.wantOK {
					t.Fatalf("ok %v, want %v", ok, tt.wantOK)
				}
				if ok && !allowed[s] {
					t.Fatalf("picked %q, not a free slot", s)
				}
				seen[s] = true
			}
			// Spread over the free slots: 200 picks that all miss one of
			// 3 free slots is a chance of about 3·(2/3)^200, 1e-35.
			if tt.wantOK && len(seen) != len(tt.free) {
				t.Fatalf("picked %v of the free %v", seen, tt.free)
			}
		})
	}
}
