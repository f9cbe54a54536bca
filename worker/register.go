package worker

import (
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/workflows"
)

// Register adds the store workflows and every method of acts as activities.
func Register(r sdkworker.Registry, acts *activities.Activities) {
	r.RegisterWorkflow(workflows.CreateStore)
	r.RegisterWorkflow(workflows.DeleteStore)
	r.RegisterWorkflow(workflows.OperateStore)
	r.RegisterWorkflow(workflows.RolloutStores)
	r.RegisterActivity(acts)
}
