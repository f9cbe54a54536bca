// Package store holds Store Platform's domain types: a store, its phases and
// the record kept of it in MongoDB. Implementations live beside it
// (MongoRepository) and depend on it, never the other way round.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Phase is where a store is in its life.
type Phase string

// The phases of a store.
const (
	PhaseRequested     Phase = "requested"
	PhaseProvisioning  Phase = "provisioning"
	PhaseReady         Phase = "ready"
	PhaseFailed        Phase = "failed"
	PhaseDeleting      Phase = "deleting"
	PhaseDeletionStuck Phase = "deletion_stuck"
	PhaseDeleted       Phase = "deleted"
	// PhaseUpdating: an operation (change, upgrade, rollback, suspend,
	// resume) runs; Record.Operation says which.
	PhaseUpdating Phase = "updating"
	// PhaseSuspended: every workload is scaled to zero; volumes, Secret and
	// release are kept.
	PhaseSuspended Phase = "suspended"
	// PhaseDegraded: an operation failed and so did the rollback that was
	// to undo it; the operation's workflow waits for a retry signal.
	PhaseDegraded Phase = "degraded"
)

// Phases lists every phase, in lifecycle order.
func Phases() []Phase {
	return []Phase{PhaseRequested, PhaseProvisioning, PhaseReady, PhaseUpdating, PhaseSuspended, PhaseDegraded,
		PhaseFailed, PhaseDeleting, PhaseDeletionStuck, PhaseDeleted}
}

// Sizes a store can have; SizeSmall is the default.
const (
	SizeSmall  = "small"
	SizeMedium = "medium"
	SizeLarge  = "large"
)

// Sizes lists the sizes, smallest first.
func Sizes() []string { return []string{SizeSmall, SizeMedium, SizeLarge} }

// Engines.
const (
	EngineWooCommerce = "woocommerce"
	EngineMedusa      = "medusa"
)

// Spec is what a store is made from. It holds no secret: it travels in
// workflow inputs and so in Temporal's history.
type Spec struct {
	// Name is the store's DNS-1123 name; the Helm release is named after it.
	Name string `json:"name" bson:"name"`
	// Generation counts the stores that have had this name: a name can be
	// used again once its store is deleted, and the new store's workflows get
	// new IDs.
	Generation int    `json:"generation" bson:"generation"`
	Engine     string `json:"engine" bson:"engine"`
	Title      string `json:"title,omitempty" bson:"title,omitempty"`
	AdminEmail string `json:"adminEmail,omitempty" bson:"admin_email,omitempty"`
	Host       string `json:"host" bson:"host"`
	// MedusaImage is "repository:tag" of the store owner's Medusa image.
	MedusaImage string `json:"medusaImage,omitempty" bson:"medusa_image,omitempty"`
	// Size names a set of resources, replicas, quota and volume sizes in
	// the chart (charts/store/sizes); "" is small.
	Size string `json:"size,omitempty" bson:"size,omitempty"`
	// Suspended stores have every workload scaled to zero.
	Suspended bool `json:"suspended,omitempty" bson:"suspended,omitempty"`
	// ChartVersion is the version of the store chart the store runs; ""
	// is the chart in CHART_DIR (stores created before versions existed).
	ChartVersion string `json:"chartVersion,omitempty" bson:"chart_version,omitempty"`
	// Tenant owns the store (the API token's tenant). The chart lets the
	// Kubernetes group storeplatform:tenant:<tenant> read the store's pods,
	// logs and events. Records from before it are read with their owner.
	Tenant string `json:"tenant,omitempty" bson:"tenant,omitempty"`
}

// SizeOrDefault is the store's size, small when none was given.
func (s Spec) SizeOrDefault() string {
	if s.Size == "" {
		return SizeSmall
	}
	return s.Size
}

// Namespace is the Kubernetes namespace of the store.
func (s Spec) Namespace() string { return NamespaceFor(s.Name) }

// SecretName is the Secret holding the store's generated credentials.
func (s Spec) SecretName() string { return s.Name + "-credentials" }

// NamespaceFor returns the namespace of the store called name.
func NamespaceFor(name string) string { return "store-" + name }

// Validate checks the fields the workflows rely on; the API validates the
// user's input more strictly before it gets here.
func (s Spec) Validate() error {
	switch {
	case s.Name == "":
		return errors.New("store name is empty")
	case s.Generation < 1:
		return fmt.Errorf("store %s: generation %d < 1", s.Name, s.Generation)
	case s.Engine != EngineWooCommerce && s.Engine != EngineMedusa:
		return fmt.Errorf("store %s: unknown engine %q", s.Name, s.Engine)
	case s.Host == "":
		return fmt.Errorf("store %s: host is empty", s.Name)
	case s.Engine == EngineMedusa && s.MedusaImage == "":
		return fmt.Errorf("store %s: a Medusa store needs an image", s.Name)
	case s.Size != "" && s.Size != SizeSmall && s.Size != SizeMedium && s.Size != SizeLarge:
		return fmt.Errorf("store %s: unknown size %q", s.Name, s.Size)
	}
	return nil
}

// Workload is the readiness of one Deployment or StatefulSet of a store.
type Workload struct {
	Kind    string `json:"kind" bson:"kind"`
	Name    string `json:"name" bson:"name"`
	Ready   int32  `json:"ready" bson:"ready"`
	Desired int32  `json:"desired" bson:"desired"`
	// Reason says why it is not ready ("waiting", "ImagePullBackOff", ...).
	Reason string `json:"reason,omitempty" bson:"reason,omitempty"`
}

// StatusUpdate is one change of a store's status, written by the workflows
// through an activity. Zero fields are left as they are, except Message and
// Blockers, which are replaced whenever Phase is set.
type StatusUpdate struct {
	Name       string `json:"name"`
	Generation int    `json:"generation"`
	// Spec, when set, is written if the record does not exist yet, or
	// replaces a deleted older generation's.
	Spec             *Spec      `json:"spec,omitempty"`
	Phase            Phase      `json:"phase,omitempty"`
	Message          string     `json:"message,omitempty"`
	URL              string     `json:"url,omitempty"`
	CreateWorkflowID string     `json:"createWorkflowId,omitempty"`
	DeleteWorkflowID string     `json:"deleteWorkflowId,omitempty"`
	Blockers         []string   `json:"blockers,omitempty"`
	Workloads        []Workload `json:"workloads,omitempty"`
	// At is when the change happened (workflow time), so that a retried
	// write records the original time.
	At time.Time `json:"at"`
	// Writer is the workflow that writes (MayWrite decides); empty: the
	// one its workflow ID names (writes from before Writer existed).
	Writer Writer `json:"writer,omitempty"`
}

// Records are the store records as the API's service reads and inserts
// them (internal/service's StoreRepository), with the status writes the
// contract tests exercise beside. MongoRepository implements it;
// internal/store/storetest's Contract is the behaviour every
// implementation must show.
type Records interface {
	Get(ctx context.Context, name string) (Record, error)
	Insert(ctx context.Context, rec Record) error
	ReplaceDeleted(ctx context.Context, old, rec Record) error
	List(ctx context.Context, q ListQuery) ([]Record, string, error)
	CountActive(ctx context.Context, owner string) (int, error)
	FreeSlot(ctx context.Context, owner string, limit int) (string, bool, error)
	HostHolder(ctx context.Context, host string) (string, error)
	UpdateStatus(ctx context.Context, u StatusUpdate) error
	Requested(ctx context.Context) ([]Record, error)
	Changed(ctx context.Context, q ChangeQuery) ([]Record, error)
}

// Record is a store as kept in MongoDB.
type Record struct {
	// ID orders records by creation, for cursor pagination.
	ID               bson.ObjectID `json:"-" bson:"_id,omitempty"`
	Spec             `bson:",inline"`
	Owner            string     `json:"owner,omitempty" bson:"owner,omitempty"`
	Phase            Phase      `json:"phase" bson:"phase"`
	Message          string     `json:"message,omitempty" bson:"message,omitempty"`
	URL              string     `json:"url,omitempty" bson:"url,omitempty"`
	Namespace        string     `json:"namespace" bson:"namespace"`
	Blockers         []string   `json:"blockers,omitempty" bson:"blockers,omitempty"`
	Workloads        []Workload `json:"workloads,omitempty" bson:"workloads,omitempty"`
	CreatedAt        time.Time  `json:"createdAt" bson:"created_at"`
	UpdatedAt        time.Time  `json:"updatedAt" bson:"updated_at"`
	ReadyAt          *time.Time `json:"readyAt,omitempty" bson:"ready_at,omitempty"`
	DeletedAt        *time.Time `json:"deletedAt,omitempty" bson:"deleted_at,omitempty"`
	CreateWorkflowID string     `json:"createWorkflowId,omitempty" bson:"create_workflow_id,omitempty"`
	DeleteWorkflowID string     `json:"deleteWorkflowId,omitempty" bson:"delete_workflow_id,omitempty"`
	// Revision is the Helm release revision the store runs.
	Revision int `json:"revision,omitempty" bson:"revision,omitempty"`
	// SpecVersion counts the changes of the store's spec after its
	// creation: an operation applies to the version it was asked for.
	SpecVersion int `json:"specVersion,omitempty" bson:"spec_version,omitempty"`
	// Operation is the operation running now, if any.
	Operation *Operation `json:"operation,omitempty" bson:"operation,omitempty"`
	// LastOperation is how the last finished operation ended.
	LastOperation *OperationResult `json:"lastOperation,omitempty" bson:"last_operation,omitempty"`
	// URLAvailable is false while the store is suspended: its URL serves
	// nothing.
	URLAvailable *bool `json:"urlAvailable,omitempty" bson:"url_available,omitempty"`
	// Claim holds what a live store has to itself, under unique indexes, so
	// that concurrent requests cannot share them: its host, and one of its
	// tenant's STORE_LIMIT slots. A deleted store's claims are released.
	Claim `bson:",inline" json:"-"`
}

// Claim is a store's hold on its host and on a slot of its tenant's store
// limit. Each field is unique across all records: a deleted (or legacy)
// record holds a placeholder made of its unique name instead.
type Claim struct {
	LiveHost string `bson:"live_host,omitempty"`
	Slot     string `bson:"slot,omitempty"`
}

// SlotOf is the claim of slot k (0 <= k < STORE_LIMIT) of tenant owner.
func SlotOf(owner string, k int) string { return fmt.Sprintf("%s/%d", owner, k) }

// released is the claim of a record that holds nothing: unique by its name.
func released(state, name string) Claim {
	return Claim{LiveHost: state + ":" + name, Slot: state + ":" + name}
}

// Operation kinds: what can happen to a store after its creation.
const (
	OpChange   = "change"
	OpRollback = "rollback"
	OpSuspend  = "suspend"
	OpResume   = "resume"
	// OpUpgrade moves a store to another version of the store chart (one
	// store of a fleet rollout).
	OpUpgrade = "upgrade"
)

// Operation is an operation running on a store.
type Operation struct {
	Kind       string    `json:"kind" bson:"kind"`
	WorkflowID string    `json:"workflowId" bson:"workflow_id"`
	StartedAt  time.Time `json:"startedAt" bson:"started_at"`
}

// OperationResult is how an operation ended.
type OperationResult struct {
	Kind string `json:"kind" bson:"kind"`
	// Failed is true when the operation did not reach its goal; Reason
	// then says why, and RolledBackTo the revision the release was
	// returned to (0 when none was needed).
	Failed       bool      `json:"failed" bson:"failed"`
	Reason       string    `json:"reason,omitempty" bson:"reason,omitempty"`
	Revision     int       `json:"revision,omitempty" bson:"revision,omitempty"`
	RolledBackTo int       `json:"rolledBackTo,omitempty" bson:"rolled_back_to,omitempty"`
	WorkflowID   string    `json:"workflowId" bson:"workflow_id"`
	FinishedAt   time.Time `json:"finishedAt" bson:"finished_at"`
}

// OperationUpdate is one write of an operation's workflow to a store's
// record. It applies only while the store is Operable: a store being
// deleted is never written back to life by a late operation.
type OperationUpdate struct {
	Name       string `json:"name"`
	Generation int    `json:"generation"`
	Phase      Phase  `json:"phase"`
	Message    string `json:"message,omitempty"`
	// Operation, when set, marks the operation as running; Result, when
	// set, ends it (Operation is cleared).
	Operation *Operation       `json:"operation,omitempty"`
	Result    *OperationResult `json:"result,omitempty"`
	// Spec, when set, is the store's spec from now on (the operation
	// reached it, or the rollback returned to it).
	Spec *Spec `json:"spec,omitempty"`
	// SpecVersion, when set on the write that starts an operation, is the
	// record's SpecVersion the operation was asked for: a store changed
	// since refuses it (ErrSpecChanged).
	SpecVersion *int   `json:"specVersion,omitempty"`
	Revision    int    `json:"revision,omitempty"`
	URL         string `json:"url,omitempty"`
	// At is workflow time.
	At time.Time `json:"at"`
}

// ListQuery selects records for a listing, newest first.
type ListQuery struct {
	// Owner, when set, limits the listing to one tenant's stores.
	Owner string
	// Phase selects one phase; empty selects every phase but deleted (a
	// deleted record stays only as history and to guard the name's reuse).
	Phase  Phase
	Engine string
	// NamePrefix, when set, selects the stores whose name starts with it
	// (the dashboard's search box). Names are lower-case letters, digits
	// and hyphens, so a range on the name is a prefix match on any
	// MongoDB and on FerretDB, with no regular expression.
	NamePrefix string
	// Limit is the page size; Cursor the NextCursor of the previous page.
	Limit  int
	Cursor string
}
