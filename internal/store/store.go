// Package store holds Store Platform's domain types: a store, its phases and
// the record kept of it in MongoDB. Implementations live beside it
// (MongoRepository) and depend on it, never the other way round.
package store

import (
	"errors"

	"fmt"
	"go.mongodb.org/mongo-driver/v2/bson"
	"time"
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
)

// Phases lists every phase, in lifecycle order.
func Phases() []Phase {
	return []Phase{PhaseRequested, PhaseProvisioning, PhaseReady, PhaseFailed, PhaseDeleting, PhaseDeletionStuck, PhaseDeleted}
}

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
// through an activity. Zero fields are left as they are, except Blockers,
// which is replaced whenever Phase is set.
type StatusUpdate struct {
	Name       string `json:"name"`
	Generation int    `json:"generation"`
	// Spec, when set, is written if the record does not exist yet.
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
}

// Errors of the repository.
var (
	ErrNotFound = errors.New("store not found")
	// ErrConflict means a record of that name exists.
	ErrConflict = errors.New("a store of that name exists")
)

// ListQuery selects records for a listing, newest first.
type ListQuery struct {
	// Owner, when set, limits the listing to one tenant's stores.
	Owner string
	// Phase selects one phase; empty selects every phase but deleted (a
	// deleted record stays only as history and to guard the name's reuse).
	Phase  Phase
	Engine string
	// Limit is the page size; Cursor the NextCursor of the previous page.
	Limit  int
	Cursor string
}
