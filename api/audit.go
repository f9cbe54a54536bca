package api

import (
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/storeplatform/storeplatform/internal/service"
)

// The audit trail is kept by the service (internal/service/audit.go);
// these names are the ones Options and the command use.
type (
	// Auditor records who did what to which store (Options.Audit).
	Auditor = service.Auditor
	// AuditEntry is one line of the audit collection.
	AuditEntry = service.AuditEntry
	// MongoAudit writes audit entries to the "audit" collection.
	MongoAudit = service.MongoAudit
)

// NewMongoAudit returns the audit log of db.
func NewMongoAudit(db *mongo.Database) *MongoAudit { return service.NewMongoAudit(db) }
