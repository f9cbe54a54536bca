package workflows

import "go.temporal.io/sdk/temporal"

// Search attributes of the store workflows, set when they start and
// upserted as their phase changes, so that the Web UI and
// `temporal workflow list --query "StoreName='x'"` find a store's workflows.
// The server must know them: the dev stack registers SearchAttributeFlags;
// on another cluster an operator runs
// `temporal operator search-attribute create --name StoreName --type Keyword`
// (and likewise for the others).
var (
	StoreNameKey   = temporal.NewSearchAttributeKeyKeyword("StoreName")
	StoreEngineKey = temporal.NewSearchAttributeKeyKeyword("StoreEngine")
	StorePhaseKey  = temporal.NewSearchAttributeKeyKeyword("StorePhase")
)

// SearchAttributeFlags returns the search attributes in the form of
// `temporal server start-dev --search-attribute`.
func SearchAttributeFlags() []string {
	return []string{
		StoreNameKey.GetName() + "=Keyword",
		StoreEngineKey.GetName() + "=Keyword",
		StorePhaseKey.GetName() + "=Keyword",
	}
}
