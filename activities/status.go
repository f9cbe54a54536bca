package activities

import (
	"context"

	"github.com/storeplatform/storeplatform/internal/store"
)

// UpdateStoreStatus writes a status change to the store's record (an
// idempotent upsert keyed by name and generation).
func (a *Activities) UpdateStoreStatus(ctx context.Context, u store.StatusUpdate) error {
	return a.Stores.UpdateStatus(ctx, u)
}
