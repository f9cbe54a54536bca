package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/storeplatform/storeplatform/internal/store"
)

// UpdateStoreStatus writes a status change to the store's record when the
// store's state machine lets the update's writer write it; otherwise it
// fails with the non-retryable ErrStoreMoved, whose details hold the
// record's phase now. Written twice, the record is the same.
func (a *Activities) UpdateStoreStatus(ctx context.Context, u store.StatusUpdate) error {
	err := a.Stores.UpdateStatus(ctx, u)
	var moved *store.MovedError
	if errors.As(err, &moved) {
		return temporal.NewNonRetryableApplicationError(moved.Error(), ErrStoreMoved, nil, moved.Phase)
	}
	return err
}

// HoldHostsInput names the hosts an operation will serve.
type HoldHostsInput struct {
	Spec  store.Spec `json:"spec"`
	Hosts []string   `json:"hosts"`
}

// HoldHosts makes the store hold each host of in.Hosts besides the one it
// serves, until its operation ends (RecordOperation with a result gives
// them back). A host another store serves or holds is the non-retryable
// ErrHostTaken naming it. Holding a host twice is one hold.
func (a *Activities) HoldHosts(ctx context.Context, in HoldHostsInput) error {
	for _, h := range in.Hosts {
		err := a.Stores.HoldHost(ctx, in.Spec.Name, in.Spec.Generation, h)
		if errors.Is(err, store.ErrHostTaken) {
			return temporal.NewNonRetryableApplicationError("the host "+h+" is taken by another store", ErrHostTaken, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
