package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/storeplatform/storeplatform/internal/store"
)

// TestErrorCode: the code of an error is that of the first store.Error in
// its chain, however wrapped; any other error is internal.
func TestErrorCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code store.Code
		msg  string
	}{
		{"nil", nil, "", "internal error"},
		{"sentinel", store.ErrHostTaken, store.CodeConflict, "another store has that host"},
		{"wrapped sentinel", fmt.Errorf("insert: %w", store.ErrNotFound), store.CodeNotFound, "store not found"},
		{"refusal", store.Decide("shop", store.PhaseProvisioning, store.RequestChange).Refused, store.CodeBusy,
			"store shop is provisioning: a change must wait until that ends"},
		{"formatted", store.Errorf(store.CodeLimit, "tenant %s is full", "acme"), store.CodeLimit, "tenant acme is full"},
		{"moved", &store.MovedError{Name: "shop", Generation: 1, Reason: "gone"}, store.CodeConflict, "the store's record has moved on"},
		{"plain", errors.New("boom"), store.CodeInternal, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := store.ErrorCode(tt.err); got != tt.code {
				t.Errorf("code %q, want %q", got, tt.code)
			}
			if tt.err == nil {
				return
			}
			if got := store.ErrorMessage(tt.err); got != tt.msg {
				t.Errorf("message %q, want %q", got, tt.msg)
			}
		})
	}
}

// TestSentinelsStayThemselves: the repository's errors are still found
// with errors.Is once wrapped.
func TestSentinelsStayThemselves(t *testing.T) {
	for _, err := range []error{store.ErrNotFound, store.ErrConflict, store.ErrNotOperable, store.ErrHostTaken,
		store.ErrSlotTaken, store.ErrSpecChanged, store.ErrBadCursor, store.ErrMoved} {
		if !errors.Is(fmt.Errorf("wrapped: %w", err), err) || store.ErrorCode(err) == store.CodeInternal {
			t.Errorf("%v: lost when wrapped, or without a code", err)
		}
	}
}
