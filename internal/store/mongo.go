package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/storeplatform/storeplatform/internal/mongoindex"
)

// MongoRepository keeps store records in a MongoDB collection, one document
// per store name. It uses only what MongoDB and FerretDB both support.
type MongoRepository struct {
	coll *mongo.Collection
}

// CollectionName is the collection of store records.
const CollectionName = "stores"

// NewMongoRepository returns a repository on db's "stores" collection.
func NewMongoRepository(db *mongo.Database) *MongoRepository {
	return &MongoRepository{coll: db.Collection(CollectionName)}
}

// EnsureIndexes creates the unique indexes on the store name and on the
// claims (host, limit slot), and the indexes of the listings (a tenant's
// stores, newest first, as List pages them by _id) and of the event
// streams' change feed (updated_at), unless they exist. Records from
// before the claims get theirs first.
func (r *MongoRepository) EnsureIndexes(ctx context.Context) error {
	if err := r.claimLegacy(ctx); err != nil {
		return err
	}
	return mongoindex.Ensure(ctx, r.coll, []mongo.IndexModel{
		{Keys: bson.D{{Key: "name", Value: 1}}, Options: options.Index().SetUnique(true).SetName("name_unique")},
		{Keys: bson.D{{Key: "owner", Value: 1}, {Key: "created_at", Value: -1}}, Options: options.Index().SetName("owner_created")},
		{Keys: bson.D{{Key: "live_host", Value: 1}}, Options: options.Index().SetUnique(true).SetName("live_host_unique")},
		{Keys: bson.D{{Key: "slot", Value: 1}}, Options: options.Index().SetUnique(true).SetName("slot_unique")},
		{Keys: bson.D{{Key: "owner", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("owner_id")},
		{Keys: bson.D{{Key: "updated_at", Value: 1}}, Options: options.Index().SetName("updated_at")},
	})
}

// claimLegacy gives records written before claims existed theirs: a live
// store its host (the first of two live stores on one host keeps it, the
// other gets a placeholder) and the lowest numbered slot of its owner that
// is free, so that it counts against the owner's limit the way every
// other store does; a deleted one placeholders. Live records that an
// earlier version gave a placeholder slot ("legacy:<name>") get a numbered
// one too.
func (r *MongoRepository) claimLegacy(ctx context.Context) error {
	filter := bson.M{"$or": bson.A{
		bson.M{"live_host": bson.M{"$exists": false}},
		bson.M{"slot": bson.M{"$regex": "^legacy:"}, "phase": bson.M{"$ne": PhaseDeleted}},
	}}
	cur, err := r.coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}}))
	if err != nil {
		return fmt.Errorf("find records without claims: %w", err)
	}
	var recs []Record
	if err := cur.All(ctx, &recs); err != nil {
		return fmt.Errorf("find records without claims: %w", err)
	}
	hosts := map[string]bool{}
	for _, rec := range recs {
		c := released("legacy", rec.Name)
		switch {
		case rec.Phase == PhaseDeleted:
			c = released("deleted", rec.Name)
		case rec.LiveHost != "":
			c.LiveHost = rec.LiveHost // claimed before: only the slot is new
		case rec.Host != "" && !hosts[rec.Host]:
			n, err := r.coll.CountDocuments(ctx, bson.M{"live_host": rec.Host})
			if err != nil {
				return err
			}
			if n == 0 {
				c.LiveHost, hosts[rec.Host] = rec.Host, true
			}
		}
		if rec.Phase != PhaseDeleted {
			if c.Slot, err = r.lowestFreeSlot(ctx, rec.Owner); err != nil {
				return err
			}
		}
		if _, err := r.coll.UpdateOne(ctx, bson.M{"_id": rec.ID}, bson.M{"$set": bson.M{"live_host": c.LiveHost, "slot": c.Slot}}); err != nil {
			return fmt.Errorf("claims of store %s: %w", rec.Name, err)
		}
	}
	return nil
}

// lowestFreeSlot is the lowest numbered slot of owner that no record holds,
// limit or not.
func (r *MongoRepository) lowestFreeSlot(ctx context.Context, owner string) (string, error) {
	cur, err := r.coll.Find(ctx, bson.M{"owner": owner}, options.Find().SetProjection(bson.M{"slot": 1}))
	if err != nil {
		return "", err
	}
	var held []Claim
	if err := cur.All(ctx, &held); err != nil {
		return "", err
	}
	taken := map[string]bool{}
	for _, c := range held {
		taken[c.Slot] = true
	}
	for k := 0; ; k++ {
		if s := SlotOf(owner, k); !taken[s] {
			return s, nil
		}
	}
}

// FreeSlot is a slot below limit that none of owner's stores holds, picked
// at random (PickFreeSlot); false when all are held.
func (r *MongoRepository) FreeSlot(ctx context.Context, owner string, limit int) (string, bool, error) {
	cur, err := r.coll.Find(ctx, bson.M{"owner": owner, "phase": bson.M{"$ne": PhaseDeleted}}, options.Find().SetProjection(bson.M{"slot": 1}))
	if err != nil {
		return "", false, err
	}
	var held []Claim
	if err := cur.All(ctx, &held); err != nil {
		return "", false, err
	}
	if len(held) >= limit {
		return "", false, nil // legacy records hold no numbered slot, but count
	}
	taken := map[string]bool{}
	for _, c := range held {
		taken[c.Slot] = true
	}
	s, ok := PickFreeSlot(owner, limit, taken)
	return s, ok, nil
}

// PickFreeSlot is one of owner's slots below limit that taken does not
// hold, chosen at random: concurrent creates of one tenant then rarely try
// the same slot (with the first free one, all of them did, and all but one
// had to read and try again, request after request).
func PickFreeSlot(owner string, limit int, taken map[string]bool) (string, bool) {
	if len(taken) == 0 {
		// Every slot is free: no list of them (a POST's first try passes
		// nothing taken, and a limit may be 100,000).
		if limit <= 0 {
			return "", false
		}
		return SlotOf(owner, rand.IntN(limit)), true
	}
	var free []string
	for k := 0; k < limit; k++ {
		if s := SlotOf(owner, k); !taken[s] {
			free = append(free, s)
		}
	}
	if len(free) == 0 {
		return "", false
	}
	return free[rand.IntN(len(free))], true
}

// duplicate tells which unique field of rec another record holds, after
// an insert of rec failed on a unique index.
func (r *MongoRepository) duplicate(ctx context.Context, rec Record) error {
	for _, c := range []struct {
		filter bson.M
		err    error
	}{
		{bson.M{"name": rec.Name}, ErrConflict},
		{bson.M{"live_host": rec.LiveHost}, ErrHostTaken},
		{bson.M{"slot": rec.Slot}, ErrSlotTaken},
	} {
		n, err := r.coll.CountDocuments(ctx, c.filter)
		if err != nil {
			return err
		}
		if n > 0 {
			return c.err
		}
	}
	return ErrConflict // gone meanwhile: the caller reads again
}

// UpdateStatus applies u to the record of u.Name at generation u.Generation
// when the state machine lets u's writer write it (CheckStatus); otherwise
// it returns a *MovedError and changes nothing. A record that does not
// exist is made from u.Spec; a deleted older generation is replaced. A
// store written deleted gives back the hosts it held. Applying the same
// update twice gives the same record. The record's write lock makes the
// check and the write one step on both backends.
func (r *MongoRepository) UpdateStatus(ctx context.Context, u StatusUpdate) error {
	ctx, unlock, err := r.lock(ctx, u.Name)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := r.current(ctx, u.Name)
	if err != nil {
		return err
	}
	action, err := CheckStatus(cur, u)
	if err != nil {
		return err
	}
	if err := r.writeStatus(ctx, action, cur, u); err != nil {
		return err
	}
	if u.Phase == PhaseDeleted {
		return r.ReleaseHolds(ctx, u.Name, u.Generation)
	}
	return nil
}

// current is the record of the store called name, nil when it has none.
func (r *MongoRepository) current(ctx context.Context, name string) (*Record, error) {
	var got Record
	switch err := r.coll.FindOne(ctx, bson.M{"name": name}).Decode(&got); {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("update store %s: %w", name, err)
	}
	return &got, nil
}

// writeStatus writes u as CheckStatus decided: over the record cur, in
// place of it (a deleted older generation), or as a new record.
func (r *MongoRepository) writeStatus(ctx context.Context, action StatusAction, cur *Record, u StatusUpdate) error {
	set, onInsert := statusFields(u)
	switch action {
	case StatusApply:
		if _, err := r.coll.UpdateOne(ctx, bson.M{"_id": cur.ID}, bson.M{"$set": set}); err != nil {
			return fmt.Errorf("update store %s: %w", u.Name, err)
		}
	case StatusReplace:
		// The name is used again: the new store's record replaces the
		// deleted one's.
		if _, err := r.coll.DeleteOne(ctx, bson.M{"_id": cur.ID}); err != nil {
			return fmt.Errorf("replace deleted store %s: %w", u.Name, err)
		}
		return r.insertStatus(ctx, u, set, onInsert)
	case StatusInsert:
		return r.insertStatus(ctx, u, set, onInsert)
	}
	return nil
}

// insertStatus makes the record of u's store from the fields u sets and
// those it sets only on a record it makes.
func (r *MongoRepository) insertStatus(ctx context.Context, u StatusUpdate, set, onInsert bson.M) error {
	doc := bson.M{"name": u.Name, "generation": u.Generation}
	for k, v := range onInsert {
		doc[k] = v
	}
	for k, v := range set {
		doc[k] = v
	}
	if _, err := r.coll.InsertOne(ctx, doc); err != nil {
		return fmt.Errorf("update store %s: %w", u.Name, err)
	}
	return nil
}

// statusFields are the fields u sets, and those it sets only on a record
// it makes.
func statusFields(u StatusUpdate) (set, onInsert bson.M) {
	set = bson.M{"updated_at": u.At, "namespace": NamespaceFor(u.Name)}
	setStatus(set, u)
	onInsert = bson.M{"created_at": u.At}
	setClaims(set, onInsert, u)
	if u.Spec != nil {
		setSpec(onInsert, *u.Spec)
	}
	return set, onInsert
}

// setStatus adds to set the phase, message, blockers, URL, workloads and
// workflow IDs u carries. A phase always comes with its message and
// blockers (empty ones clear them) and stamps ready_at or deleted_at.
func setStatus(set bson.M, u StatusUpdate) {
	if u.Phase != "" {
		set["phase"] = u.Phase
		set["message"] = u.Message
		set["blockers"] = u.Blockers
		switch u.Phase {
		case PhaseReady:
			set["ready_at"] = u.At
		case PhaseDeleted:
			set["deleted_at"] = u.At
		}
	} else if u.Message != "" {
		set["message"] = u.Message
	}
	if u.URL != "" {
		set["url"] = u.URL
	}
	if u.Workloads != nil {
		set["workloads"] = u.Workloads
	}
	if u.CreateWorkflowID != "" {
		set["create_workflow_id"] = u.CreateWorkflowID
	}
	if u.DeleteWorkflowID != "" {
		set["delete_workflow_id"] = u.DeleteWorkflowID
	}
}

// setClaims releases the claims of a store written deleted (in set), and
// gives a record made here placeholder claims (in onInsert).
func setClaims(set, onInsert bson.M, u StatusUpdate) {
	if u.Phase == PhaseDeleted {
		// A deleted store releases its host and its slot of the limit.
		c := released("deleted", u.Name)
		set["live_host"], set["slot"] = c.LiveHost, c.Slot
	} else {
		// A record made here (its API record is lost) claims nothing.
		c := released("unclaimed", u.Name)
		onInsert["live_host"], onInsert["slot"] = c.LiveHost, c.Slot
	}
}

// setSpec adds to onInsert the fields of spec a record made here gets:
// engine and host always, the others when they are set.
func setSpec(onInsert bson.M, spec Spec) {
	onInsert["engine"] = spec.Engine
	onInsert["host"] = spec.Host
	for k, v := range map[string]string{"title": spec.Title, "admin_email": spec.AdminEmail,
		"medusa_image": spec.MedusaImage, "size": spec.Size, "chart_version": spec.ChartVersion, "tenant": spec.Tenant} {
		if v != "" {
			onInsert[k] = v
		}
	}
}

// UpdateOperation applies an operation's write to the record of u.Name at
// u.Generation when the state machine allows it (CheckOperation): never
// over a creation or a deletion (ErrNotOperable), and an operation starts
// only on the spec version it was asked for (ErrSpecChanged). An update
// that ends the operation gives back the hosts the store held for it
// besides the one it serves now. Applying it twice gives the same record.
func (r *MongoRepository) UpdateOperation(ctx context.Context, u OperationUpdate) error {
	ctx, unlock, err := r.lock(ctx, u.Name)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := r.current(ctx, u.Name)
	if err != nil {
		return err
	}
	if err := CheckOperation(cur, u); err != nil {
		return err
	}
	set, unset := operationFields(*cur, u)
	if err := r.writeOperation(ctx, *cur, set, unset); err != nil {
		return err
	}
	if u.Result != nil {
		return r.ReleaseHolds(ctx, u.Name, u.Generation)
	}
	return nil
}

// operationFields are the fields u sets over the record cur, and those it
// removes (the running operation, once u ends it).
func operationFields(cur Record, u OperationUpdate) (set, unset bson.M) {
	set = bson.M{"phase": u.Phase, "message": u.Message, "updated_at": u.At, "blockers": []string(nil)}
	unset = bson.M{}
	if u.Operation != nil {
		set["operation"] = u.Operation
	}
	if u.Result != nil {
		set["last_operation"] = u.Result
		unset["operation"] = ""
	}
	if u.Spec != nil {
		setOperationSpec(set, cur, *u.Spec)
	}
	if u.Revision > 0 {
		set["revision"] = u.Revision
	}
	if u.URL != "" {
		set["url"] = u.URL
	}
	switch u.Phase {
	case PhaseSuspended:
		set["url_available"] = false
	case PhaseReady:
		set["url_available"] = true
		set["ready_at"] = u.At
	}
	return set, unset
}

// setOperationSpec adds to set the fields of spec, the store's spec from
// now on: a spec that differs from cur's counts one more spec version, and
// its host becomes the one the store serves.
func setOperationSpec(set bson.M, cur Record, spec Spec) {
	set["title"] = spec.Title
	set["admin_email"] = spec.AdminEmail
	set["host"] = spec.Host
	set["medusa_image"] = spec.MedusaImage
	set["size"] = spec.SizeOrDefault()
	set["suspended"] = spec.Suspended
	if spec.ChartVersion != "" {
		set["chart_version"] = spec.ChartVersion
	}
	if !sameSpec(cur.Spec, spec) {
		set["spec_version"] = cur.SpecVersion + 1
	}
	if spec.Host != "" {
		set["live_host"] = spec.Host // the host the store now serves
	}
}

// writeOperation sets set and removes unset on the record cur. When
// another store serves the host set would make cur's, it writes the rest.
func (r *MongoRepository) writeOperation(ctx context.Context, cur Record, set, unset bson.M) error {
	update := bson.M{"$set": set}
	if len(unset) > 0 {
		update["$unset"] = unset
	}
	_, err := r.coll.UpdateOne(ctx, bson.M{"_id": cur.ID}, update)
	if (mongo.IsDuplicateKeyError(err) || isWriteConflict(err)) && set["live_host"] != nil {
		// Another store serves the host: it was held for this store while
		// the operation ran, so only a store made around the hold's check
		// can have it. The record keeps the claim it has.
		delete(set, "live_host")
		_, err = r.coll.UpdateOne(ctx, bson.M{"_id": cur.ID}, update)
	}
	if err != nil {
		return fmt.Errorf("update store %s: %w", cur.Name, err)
	}
	return nil
}

// sameSpec reports whether a spec write changes nothing a client set.
func sameSpec(cur, next Spec) bool {
	return cur.Title == next.Title && cur.AdminEmail == next.AdminEmail && cur.Host == next.Host &&
		cur.MedusaImage == next.MedusaImage && cur.SizeOrDefault() == next.SizeOrDefault() &&
		cur.Suspended == next.Suspended && (next.ChartVersion == "" || cur.ChartVersion == next.ChartVersion)
}

// Get returns the record of the store called name.
func (r *MongoRepository) Get(ctx context.Context, name string) (Record, error) {
	var rec Record
	err := r.coll.FindOne(ctx, bson.M{"name": name}).Decode(&rec)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return rec, ErrNotFound
	}
	rec.withTenant()
	return rec, err
}

// withTenant gives a record written before Spec.Tenant existed its owner
// as tenant, so that every spec read from the store names its tenant.
func (r *Record) withTenant() {
	if r.Spec.Tenant == "" {
		r.Spec.Tenant = r.Owner
	}
}

// withTenants is withTenant for a page of records.
func withTenants(recs []Record) []Record {
	for i := range recs {
		recs[i].withTenant()
	}
	return recs
}

// isWriteConflict reports FerretDB's answer to an upsert into a unique
// conflict, which is not the duplicate-key code MongoDB gives.
func isWriteConflict(err error) bool {
	var we mongo.WriteException
	if errors.As(err, &we) {
		for _, e := range we.WriteErrors {
			if e.Code == 11000 || e.Code == 1 {
				return true
			}
		}
	}
	// An update that breaks a unique index: FerretDB on SQLite answers
	// InternalError with SQLite's constraint message instead of 11000.
	var ce mongo.CommandError
	return errors.As(err, &ce) && strings.Contains(ce.Message, "UNIQUE constraint failed")
}

// Insert adds a new record; ErrConflict when its name is taken,
// ErrHostTaken when another store serves or holds its host, ErrSlotTaken
// when another of its tenant's stores has its slot. The holds are checked
// after the insert (see HoldHost), which is undone when another store
// holds the host.
func (r *MongoRepository) Insert(ctx context.Context, rec Record) error {
	if rec.ID.IsZero() {
		rec.ID = bson.NewObjectID()
	}
	_, err := r.coll.InsertOne(ctx, rec)
	if mongo.IsDuplicateKeyError(err) || isWriteConflict(err) {
		return r.duplicate(ctx, rec)
	}
	if err != nil {
		return err
	}
	held, err := r.heldByOther(ctx, rec.LiveHost, rec.Name)
	if err == nil && !held {
		return nil
	}
	if _, derr := r.coll.DeleteOne(ctx, bson.M{"_id": rec.ID}); derr != nil {
		return errors.Join(err, fmt.Errorf("undo the insert of store %s: %w", rec.Name, derr))
	}
	if err != nil {
		return err
	}
	return ErrHostTaken
}

// ReplaceDeleted puts rec in the place of old, a deleted store of the same
// name; ErrConflict when old is no longer there as it was (another request
// took the name first).
func (r *MongoRepository) ReplaceDeleted(ctx context.Context, old, rec Record) error {
	gone := bson.M{"name": old.Name, "generation": old.Generation, "phase": PhaseDeleted}
	if n, err := r.coll.CountDocuments(ctx, gone); err != nil {
		return err
	} else if n == 0 {
		return ErrConflict
	}
	// The claims are checked first so that a taken host or slot leaves the
	// deleted record in place; the unique indexes still decide a race.
	for _, c := range []struct {
		filter bson.M
		err    error
	}{{bson.M{"live_host": rec.LiveHost}, ErrHostTaken}, {bson.M{"slot": rec.Slot}, ErrSlotTaken}} {
		if n, err := r.coll.CountDocuments(ctx, c.filter); err != nil {
			return err
		} else if n > 0 {
			return c.err
		}
	}
	res, err := r.coll.DeleteOne(ctx, gone)
	if err != nil {
		return err
	}
	if res.DeletedCount == 0 {
		return ErrConflict
	}
	if err := r.Insert(ctx, rec); err != nil {
		// Lost a race for a claim: the deleted record goes back, so the
		// name's generations continue.
		if _, rerr := r.coll.InsertOne(ctx, old); rerr != nil && !mongo.IsDuplicateKeyError(rerr) {
			return fmt.Errorf("%w (and the deleted record could not be put back: %v)", err, rerr)
		}
		return err
	}
	return nil
}

// List returns one page of records, newest first, and the cursor of the
// next page ("" on the last one).
func (r *MongoRepository) List(ctx context.Context, q ListQuery) ([]Record, string, error) {
	filter := bson.M{}
	if q.Owner != "" {
		filter["owner"] = q.Owner
	}
	if q.Phase != "" {
		filter["phase"] = q.Phase
	} else {
		filter["phase"] = bson.M{"$ne": PhaseDeleted}
	}
	if q.Engine != "" {
		filter["engine"] = q.Engine
	}
	if q.NamePrefix != "" {
		filter["name"] = bson.M{"$gte": q.NamePrefix, "$lt": q.NamePrefix + "\uffff"}
	}
	if q.Cursor != "" {
		id, err := bson.ObjectIDFromHex(q.Cursor)
		if err != nil {
			return nil, "", ErrBadCursor
		}
		filter["_id"] = bson.M{"$lt": id}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	cur, err := r.coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit+1)))
	if err != nil {
		return nil, "", err
	}
	var recs []Record
	if err := cur.All(ctx, &recs); err != nil {
		return nil, "", err
	}
	withTenants(recs)
	next := ""
	if len(recs) > limit {
		recs = recs[:limit]
		next = recs[limit-1].ID.Hex()
	}
	return recs, next, nil
}

// CountActive counts owner's stores that are not deleted.
func (r *MongoRepository) CountActive(ctx context.Context, owner string) (int, error) {
	n, err := r.coll.CountDocuments(ctx, bson.M{"owner": owner, "phase": bson.M{"$ne": PhaseDeleted}})
	return int(n), err
}

// Requested returns records still in phase requested: stores whose
// workflow may not have been started (the API died in between).
func (r *MongoRepository) Requested(ctx context.Context) ([]Record, error) {
	cur, err := r.coll.Find(ctx, bson.M{"phase": PhaseRequested})
	if err != nil {
		return nil, err
	}
	var recs []Record
	err = cur.All(ctx, &recs)
	return withTenants(recs), err
}

// ChangeQuery selects records changed after Since.
type ChangeQuery struct {
	// Owner and Name, when set, narrow the records to one tenant or store.
	Owner, Name string
	Since       time.Time
}

// ChangedLimit is the most records one Changed call returns; a caller that
// got as many asks again from the last one's UpdatedAt.
const ChangedLimit = 500

// Changed returns the records changed after q.Since, oldest change first,
// at most ChangedLimit, for the live event streams (FerretDB has no change
// streams, so they poll).
func (r *MongoRepository) Changed(ctx context.Context, q ChangeQuery) ([]Record, error) {
	filter := bson.M{"updated_at": bson.M{"$gt": q.Since}}
	if q.Owner != "" {
		filter["owner"] = q.Owner
	}
	if q.Name != "" {
		filter["name"] = q.Name
	}
	cur, err := r.coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "updated_at", Value: 1}}).SetLimit(ChangedLimit))
	if err != nil {
		return nil, err
	}
	var recs []Record
	err = cur.All(ctx, &recs)
	return withTenants(recs), err
}

// CountByPhase counts the records in each phase. It counts phase by phase:
// FerretDB's $group fills only its first accumulator.
func (r *MongoRepository) CountByPhase(ctx context.Context) (map[Phase]int, error) {
	out := map[Phase]int{}
	for _, p := range Phases() {
		n, err := r.coll.CountDocuments(ctx, bson.M{"phase": p})
		if err != nil {
			return nil, err
		}
		out[p] = int(n)
	}
	return out, nil
}

// Fleet lists the stores a rollout may touch: every store not deleted, of
// one engine and one owner when those are given, by name.
func (r *MongoRepository) Fleet(ctx context.Context, engine, owner string) ([]Record, error) {
	filter := bson.M{"phase": bson.M{"$ne": PhaseDeleted}}
	if engine != "" {
		filter["engine"] = engine
	}
	if owner != "" {
		filter["owner"] = owner
	}
	cur, err := r.coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "name", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var recs []Record
	err = cur.All(ctx, &recs)
	return withTenants(recs), err
}

// PlatformCollection holds the platform's own settings, one document each.
const PlatformCollection = "platform"

// CurrentChartVersion is the store chart version new stores get, as the
// last rollout whose canary passed set it; "" when none did.
func (r *MongoRepository) CurrentChartVersion(ctx context.Context) (string, error) {
	var doc struct {
		Version string `bson:"version"`
	}
	err := r.coll.Database().Collection(PlatformCollection).FindOne(ctx, bson.M{"_id": "chart"}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	return doc.Version, err
}

// SetCurrentChartVersion sets the version new stores get.
func (r *MongoRepository) SetCurrentChartVersion(ctx context.Context, version string) error {
	_, err := r.coll.Database().Collection(PlatformCollection).UpdateOne(ctx, bson.M{"_id": "chart"},
		bson.M{"$set": bson.M{"version": version}}, options.UpdateOne().SetUpsert(true))
	return err
}
