package api

import (
	"context"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/store"
)

// Credentials is the store's admin login, read from its Secret on demand.
// It is never stored by the platform outside that Secret.
type Credentials struct {
	Store    string `json:"store"`
	LoginURL string `json:"loginUrl"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// AuditEntry is one line of the audit collection.
type AuditEntry struct {
	At        time.Time `json:"at" bson:"at"`
	Tenant    string    `json:"tenant" bson:"tenant"`
	TokenID   string    `json:"tokenId" bson:"token_id"`
	Action    string    `json:"action" bson:"action"`
	Store     string    `json:"store" bson:"store"`
	RequestID string    `json:"requestId" bson:"request_id"`
}

// Auditor records who did what to which store.
type Auditor interface {
	Record(ctx context.Context, e AuditEntry) error
}

// MongoAudit writes audit entries to the "audit" collection.
type MongoAudit struct{ coll *mongo.Collection }

// NewMongoAudit returns the audit log of db.
func NewMongoAudit(db *mongo.Database) *MongoAudit { return &MongoAudit{coll: db.Collection("audit")} }

// Record appends e.
func (a *MongoAudit) Record(ctx context.Context, e AuditEntry) error {
	_, err := a.coll.InsertOne(ctx, e)
	return err
}

// audit records action on name by the request's principal; a failure is
// logged, and fails the request only where the issue demands an audit
// trail (reading credentials).
func (s *server) audit(r *http.Request, action, name string) error {
	if s.o.Audit == nil {
		return nil
	}
	who := principal(r)
	err := s.o.Audit.Record(r.Context(), AuditEntry{At: s.o.Now().UTC(), Tenant: who.Tenant, TokenID: who.ID,
		Action: action, Store: name, RequestID: requestID(r)})
	if err != nil {
		s.o.Logger.ErrorContext(r.Context(), "audit", "action", action, "store", name, "error", err.Error())
	}
	return err
}

// getCredentials handles GET /api/stores/{name}/credentials: the owner or
// an admin reads the admin login from the store's Secret. Every read is
// audited; without an audit record the password is not given out.
func (s *server) getCredentials(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.visibleStore(w, r)
	if !ok {
		return
	}
	if d := decide(rec, store.RequestCredentials); d.Refused != nil {
		fail(w, r, d.Refused)
		return
	}
	sec, err := s.o.Kube.CoreV1().Secrets(rec.Spec.Namespace()).Get(r.Context(), rec.Spec.SecretName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		notFound(w, r, "the store's credentials are gone")
		return
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	if err := s.audit(r, "read-credentials", rec.Name); err != nil {
		fail(w, r, err)
		return
	}
	c := Credentials{Store: rec.Name, Password: string(sec.Data["admin-password"])}
	switch rec.Engine {
	case store.EngineWooCommerce:
		c.LoginURL, c.Username = rec.URL+"/wp-admin/", "admin"
	default:
		c.LoginURL, c.Username = rec.URL+"/app", rec.AdminEmail
		if c.Username == "" {
			c.Username = "admin@example.com"
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, c)
}

var _ Auditor = (*MongoAudit)(nil)
