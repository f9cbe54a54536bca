// Package mongoindex creates MongoDB indexes idempotently on MongoDB and on
// FerretDB, which drops the connection when asked to create an index that
// already exists.
package mongoindex

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Ensure creates the indexes of want that coll lacks, matched by name.
// Every model must be named.
func Ensure(ctx context.Context, coll *mongo.Collection, want []mongo.IndexModel) error {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return fmt.Errorf("list indexes of %s: %w", coll.Name(), err)
	}
	have := map[string]bool{}
	for _, s := range specs {
		have[s.Name] = true
	}
	var missing []mongo.IndexModel
	for _, m := range want {
		var o options.IndexOptions
		if m.Options != nil {
			for _, set := range m.Options.List() {
				_ = set(&o)
			}
		}
		if o.Name == nil {
			return errors.New("mongoindex: every index must be named")
		}
		if !have[*o.Name] {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := coll.Indexes().CreateMany(ctx, missing); err != nil {
		return fmt.Errorf("create indexes of %s: %w", coll.Name(), err)
	}
	return nil
}
