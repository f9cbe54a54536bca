package service

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

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

var _ Auditor = (*MongoAudit)(nil)

// NewMongoAudit returns the audit log of db.
func NewMongoAudit(db *mongo.Database) *MongoAudit { return &MongoAudit{coll: db.Collection("audit")} }

// Record appends e.
func (a *MongoAudit) Record(ctx context.Context, e AuditEntry) error {
	_, err := a.coll.InsertOne(ctx, e)
	return err
}

// audit records action on name (a store or a rollout) by who; without an
// Auditor nothing is recorded.
func (s *Service) audit(ctx context.Context, who Caller, action, name string) error {
	if s.c.Audit == nil {
		return nil
	}
	return s.c.Audit.Record(ctx, AuditEntry{At: s.c.Now().UTC(), Tenant: who.Tenant, TokenID: who.ID,
		Action: action, Store: name, RequestID: who.RequestID})
}

// note audits action on name by who where the request does not depend on
// it: a failure is logged with the request's logger, and the request goes
// on. Only reading credentials demands an audit record (Credentials).
func (s *Service) note(ctx context.Context, who Caller, action, name string) {
	if err := s.audit(ctx, who, action, name); err != nil {
		s.logger(ctx).ErrorContext(ctx, "audit", "action", action, "store", name, "error", err.Error())
	}
}
