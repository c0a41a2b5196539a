package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
)

const DefaultPgPort = 5432

// SourceInput creates a source. PgPort defaults to 5432.
type SourceInput struct {
	Name            string `json:"name" minLength:"1" maxLength:"100" doc:"Unique name (case-insensitive), 1-100 characters" example:"orders-db"`
	PgHost          string `json:"pg_host" doc:"Host name or IP address of the PostgreSQL server" example:"db.internal"`
	PgPort          *int   `json:"pg_port,omitempty" minimum:"1" maximum:"65535" doc:"TCP port (default 5432)" example:"5432"`
	PgDatabase      string `json:"pg_database" doc:"Database holding the published tables" example:"orders"`
	PgUsername      string `json:"pg_username" doc:"Role with REPLICATION (or superuser)" example:"rosetta"`
	PgPassword      string `json:"pg_password" writeOnly:"true" doc:"Password; stored sealed, never returned"`
	PublicationName string `json:"publication_name" pattern:"^[A-Za-z_][A-Za-z0-9_$]{0,62}$" doc:"Existing publication to replicate" example:"rosetta_pub"`
	ReplicationID   string `json:"replication_id" pattern:"^[a-z0-9_]{1,63}$" doc:"Logical replication slot name (lower-case letters, digits, _)" example:"rosetta_orders"`
	// WALAlertThresholdBytes nil or 0: the configured default (WAL_RETENTION_ALERT_BYTES).
	WALAlertThresholdBytes *int64 `json:"wal_alert_threshold_bytes,omitempty" minimum:"0" doc:"Alert when the slot retains more WAL than this many bytes; absent or 0 = the configured default"`
	TLSMode                string `json:"tls_mode,omitempty" enum:"disable,prefer,require,verify-ca,verify-full" doc:"TLS mode, with libpq's sslmode meanings (default prefer). verify-full is the only mode that stops an impostor on the network path. Whatever the mode, a password is never sent in cleartext without TLS." example:"verify-full"`
	TLSCACert              string `json:"tls_ca_cert,omitempty" doc:"PEM certificate(s) of the CA that signs the server's certificate, for verify-ca and verify-full (omitted: the system's trusted roots)"`
}

// SourcePatch changes the fields given and keeps the rest.
type SourcePatch struct {
	Name            *string `json:"name,omitempty"`
	PgHost          *string `json:"pg_host,omitempty"`
	PgPort          *int    `json:"pg_port,omitempty" minimum:"1" maximum:"65535"`
	PgDatabase      *string `json:"pg_database,omitempty"`
	PgUsername      *string `json:"pg_username,omitempty"`
	PgPassword      *string `json:"pg_password,omitempty" writeOnly:"true" doc:"New password; omit to keep the stored one. Required when pg_host, pg_port, pg_database or pg_username changes: a stored password is only sent to the server it was given for."`
	PublicationName *string `json:"publication_name,omitempty"`
	ReplicationID   *string `json:"replication_id,omitempty"`
	// WALAlertThresholdBytes 0 returns the source to the configured default.
	WALAlertThresholdBytes *int64  `json:"wal_alert_threshold_bytes,omitempty" minimum:"0" doc:"New retention alert threshold in bytes; 0 = the configured default"`
	TLSMode                *string `json:"tls_mode,omitempty" enum:"disable,prefer,require,verify-ca,verify-full" doc:"TLS mode, with libpq's sslmode meanings"`
	TLSCACert              *string `json:"tls_ca_cert,omitempty" doc:"PEM CA certificate(s) for verify-ca and verify-full; an empty string removes it"`
}

// WALSample is one WAL measurement of a source.
type WALSample struct {
	ID            int64     `json:"id"`
	SourceID      int64     `json:"source_id"`
	SizeBytes     int64     `json:"size_bytes" doc:"pg_wal_lsn_diff(current LSN, '0/0')"`
	RetainedBytes *int64    `json:"retained_bytes,omitempty" doc:"WAL held back by the source's replication slot"`
	SlotActive    *bool     `json:"slot_active,omitempty"`
	WALStatus     *string   `json:"wal_status,omitempty" doc:"pg_replication_slots.wal_status"`
	SafeWALSize   *int64    `json:"safe_wal_size,omitempty" doc:"WAL that can still be written before the slot is lost (max_slot_wal_keep_size); absent when unlimited"`
	RecordedAt    time.Time `json:"recorded_at"`
}

// Source is a registered PostgreSQL source as both faces show it: never its password.
type Source struct {
	ID               int64      `json:"id"`
	Name             string     `json:"name"`
	PgHost           string     `json:"pg_host"`
	PgPort           int        `json:"pg_port"`
	PgDatabase       string     `json:"pg_database"`
	PgUsername       string     `json:"pg_username"`
	PgPasswordSet    bool       `json:"pg_password_set"`
	PublicationName  string     `json:"publication_name"`
	ReplicationID    string     `json:"replication_id"`
	TLSMode          string     `json:"tls_mode" enum:"disable,prefer,require,verify-ca,verify-full"`
	TLSCACert        *string    `json:"tls_ca_cert,omitempty" doc:"The pasted CA certificate(s), when there are any"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	LatestWAL        *WALSample `json:"latest_wal,omitempty" doc:"Newest WAL sample, when the monitor has taken one"`
	LastProbeError   *string    `json:"last_probe_error,omitempty" doc:"Why the last WAL probe failed, until one succeeds; network detail only for operators and admins"`
	LastProbeErrorAt *time.Time `json:"last_probe_error_at,omitempty"`
	LastProbeAt      *time.Time `json:"last_probe_at,omitempty"`
	// The monitor's view of the source, from its last probe (stored, so every page and
	// every instance shows the same).
	ProbeState        string     `json:"probe_state" enum:"never,ok,failing" doc:"never: not probed yet; ok: the last probe succeeded; failing: it failed"`
	LastProbeReason   *string    `json:"last_probe_reason,omitempty" doc:"Class of the last failure: auth, refused, timeout, dns, ..."`
	ProbeFailures     int        `json:"probe_failures" doc:"Failed probes in a row"`
	ProbeFailingSince *time.Time `json:"probe_failing_since,omitempty" doc:"First failure of the current run of failures"`
	// WALAlertThresholdBytes is the source's own threshold, nil when it uses the default.
	WALAlertThresholdBytes *int64   `json:"wal_alert_threshold_bytes,omitempty" doc:"Alert when the slot retains more WAL than this; absent = the configured default"`
	ActiveAlerts           []string `json:"active_alerts" doc:"Alerts currently raised: failing, slot_inactive, slot_lost, retention"`
	// Warnings come with a create or update only: what was saved but deserves a look.
	Warnings []Warning `json:"warnings,omitempty" doc:"Only in the answer to a create or update: things saved but worth a look, e.g. another source naming the same replication slot (host, port, database and slot)"`
}

// Warning is something a save accepted but the operator should know.
type Warning struct {
	Code    string       `json:"code" enum:"shared_slot" doc:"shared_slot: another source names the same replication slot"`
	Message string       `json:"message"`
	Related []apperr.Ref `json:"related,omitempty" doc:"The entities the warning is about"`
}

// WarningSharedSlot: another source names the same logical slot.
const WarningSharedSlot = "shared_slot"

// sharedSlotWarning warns when other sources name the same slot as source id: allowed
// (an operator may register one database twice, say with different users), but only
// one pipeline among them can run at a time, since a logical slot feeds one consumer.
func sharedSlotWarning(ctx context.Context, q *db.Queries, id int64, slot Slot) ([]Warning, error) {
	others, err := q.SourcesSharingSlot(ctx, db.SourcesSharingSlotParams{ID: id, PgHost: slot.Host,
		PgPort: int32(slot.Port), PgDatabase: slot.Database, ReplicationID: slot.Name})
	if err != nil || len(others) == 0 {
		return nil, err
	}
	refs := make([]apperr.Ref, len(others))
	names := make([]string, len(others))
	for i, o := range others {
		refs[i] = apperr.Ref{Kind: KindSource, ID: o.ID, Name: o.Name}
		names[i] = fmt.Sprintf("%q", o.Name)
	}
	noun := "source"
	if len(others) > 1 {
		noun = "sources"
	}
	return []Warning{{Code: WarningSharedSlot, Related: refs, Message: fmt.Sprintf(
		"%s %s also use%s the replication slot %s: a logical slot feeds one consumer, so only one pipeline of these sources can run at a time",
		noun, strings.Join(names, ", "), map[bool]string{true: "", false: "s"}[len(others) > 1], slot)}}, nil
}

// SourceSorts are the accepted sort keys; the first is the default.
var SourceSorts = []string{"name", "-name", "created_at", "-created_at", "host", "-host"}

// sourceFromRow is a source as the caller in ctx may see it: the probe error's network
// detail only for those who may edit the source.
func sourceFromRow(ctx context.Context, r db.Source) Source {
	out := Source{
		ID: r.ID, Name: r.Name, PgHost: r.PgHost, PgPort: int(r.PgPort), PgDatabase: r.PgDatabase,
		PgUsername: r.PgUsername, PgPasswordSet: len(r.PgPassword) > 0, PublicationName: r.PublicationName,
		ReplicationID: r.ReplicationID, TLSMode: r.TlsMode, TLSCACert: r.TlsCaCert,
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
		LastProbeError: r.LastProbeError, LastProbeErrorAt: utcPtr(r.LastProbeErrorAt), LastProbeAt: utcPtr(r.LastProbeAt),
		ProbeState: probeState(r), LastProbeReason: r.LastProbeReason, ProbeFailures: int(r.ProbeFailures),
		ProbeFailingSince: utcPtr(r.ProbeFailingSince), WALAlertThresholdBytes: r.WalAlertThresholdBytes,
		ActiveAlerts: append([]string{}, r.ActiveAlerts...),
	}
	if r.LastProbeError != nil && r.LastProbeErrorDetail != nil && seesNetworkDetail(ctx) {
		out.LastProbeError = r.LastProbeErrorDetail
	}
	// The newest sample travels on the row (migration 00012's copy of wal_latest).
	if r.LatestSampleID != nil && r.LatestSizeBytes != nil && r.LatestRecordedAt != nil {
		w := walFromRow(db.WalMetric{ID: *r.LatestSampleID, SourceID: r.ID, SizeBytes: *r.LatestSizeBytes,
			RetainedBytes: r.LatestRetainedBytes, SlotActive: r.LatestSlotActive, WalStatus: r.LatestWalStatus,
			SafeWalSize: r.LatestSafeWalSize, RecordedAt: *r.LatestRecordedAt})
		out.LatestWAL = &w
	}
	return out
}

// seesNetworkDetail reports whether the caller may edit sources, and so may read the
// network detail of connection errors (addresses, refusals, TLS reasons). Viewers get
// sentences without it, so reading other people's results cannot map a network. With no
// principal (the command line, background jobs) there is nobody to hide it from.
func seesNetworkDetail(ctx context.Context) bool {
	p, ok := auth.FromContext(ctx)
	return !ok || p.Role.AtLeast(auth.Operator)
}

func walFromRow(m db.WalMetric) WALSample {
	return WALSample{ID: m.ID, SourceID: m.SourceID, SizeBytes: m.SizeBytes, RetainedBytes: m.RetainedBytes,
		SlotActive: m.SlotActive, WALStatus: m.WalStatus, SafeWALSize: m.SafeWalSize, RecordedAt: utc(m.RecordedAt)}
}

// sourceValues is the full set of a source's fields, validated as a whole on create and
// after a patch is applied, so both paths share one rule set.
type sourceValues struct {
	name, host, database, username, publication, slot string
	port                                              int
	password                                          *string // nil = keep stored
	threshold                                         *int64  // nil = the configured default
	tlsMode, caCert                                   string  // caCert "" = none
}

// endpoint is where a stored password goes: changing any part of it asks for the
// password again.
func (v *sourceValues) endpoint() [4]string {
	return [4]string{v.host, strconv.Itoa(v.port), v.database, v.username}
}

// errEndpointChanged is the pg_password message when host, port, database or user change
// without the password being given again.
const errEndpointChanged = "must be entered again because the endpoint changed (host, port, database or user): " +
	"a stored password is only sent to the server it was entered for"

func (v *sourceValues) validate(creating, endpointChanged bool) error {
	var f apperr.Fields
	validName(&f, "name", v.name)
	validHost(&f, "pg_host", v.host)
	validPort(&f, "pg_port", v.port)
	required(&f, "pg_database", v.database, 63)
	required(&f, "pg_username", v.username, 63)
	switch {
	case creating && (v.password == nil || *v.password == ""):
		f.Add("pg_password", "is required")
	case v.password != nil && *v.password == "":
		f.Add("pg_password", "must not be empty; omit it to keep the stored password")
	case v.password != nil && len(*v.password) > 1024:
		f.Add("pg_password", "must be at most 1024 bytes")
	case endpointChanged && v.password == nil:
		f.Add("pg_password", "%s", errEndpointChanged)
	default:
		validSecret(&f, "pg_password", v.password)
	}
	if !pgsource.ValidTLSMode(v.tlsMode) {
		f.Add("tls_mode", "must be one of %s", strings.Join(tlsModeNames(), ", "))
	}
	if v.caCert != "" {
		if _, err := pgsource.ParseCACert(v.caCert); err != nil {
			f.Add("tls_ca_cert", "%s", err.Error())
		} else if !pgsource.TLSMode(v.tlsMode).Verifies() && pgsource.ValidTLSMode(v.tlsMode) {
			f.Add("tls_ca_cert", "is only used by the TLS modes verify-ca and verify-full: choose one of them, or remove the certificate")
		}
	}
	validPattern(&f, "publication_name", v.publication, pgIdentRe, 63,
		"must be a PostgreSQL identifier: a letter or _, then letters, digits, _ or $ (at most 63)")
	validPattern(&f, "replication_id", v.slot, slotNameRe, 63,
		"must be a replication slot name: lower-case letters, digits and _ (at most 63)")
	if v.threshold != nil && *v.threshold < 1 {
		f.Add("wal_alert_threshold_bytes", "must be a positive number of bytes (0 means the configured default)")
	}
	return f.Err()
}

// newSourceValues are a new source's values as given (the port and TLS mode defaulted).
func newSourceValues(in SourceInput) sourceValues {
	v := sourceValues{
		name: trimmed(in.Name), host: trimmed(in.PgHost), database: in.PgDatabase, username: in.PgUsername,
		publication: trimmed(in.PublicationName), slot: trimmed(in.ReplicationID), port: DefaultPgPort,
		password: &in.PgPassword, threshold: thresholdArg(in.WALAlertThresholdBytes),
		tlsMode: string(pgsource.TLSPrefer), caCert: caCertText(in.TLSCACert),
	}
	if in.PgPort != nil {
		v.port = *in.PgPort
	}
	if in.WALAlertThresholdBytes != nil && *in.WALAlertThresholdBytes < 0 {
		v.threshold = in.WALAlertThresholdBytes // reported by validate
	}
	if in.TLSMode != "" {
		v.tlsMode = in.TLSMode
	}
	return v
}

func (s *Service) CreateSource(ctx context.Context, in SourceInput) (Source, error) {
	v := newSourceValues(in)
	if err := v.validate(true, false); err != nil {
		return Source{}, err
	}
	sealed, err := s.box.Seal(in.PgPassword)
	if err != nil {
		return Source{}, apperr.Wrap(err, "cannot seal the password")
	}
	var out Source
	err = s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		row, err := q.CreateSource(ctx, db.CreateSourceParams{
			Name: v.name, PgHost: v.host, PgPort: int32(v.port), PgDatabase: v.database, PgUsername: v.username,
			PgPassword: sealed, PublicationName: v.publication, ReplicationID: v.slot,
			TlsMode: v.tlsMode, TlsCaCert: optText(v.caCert), WalAlertThresholdBytes: v.threshold,
		})
		if err != nil {
			return err
		}
		out = sourceFromRow(ctx, row)
		if out.Warnings, err = sharedSlotWarning(ctx, q, row.ID, slotOf(row)); err != nil {
			return err
		}
		return s.record(ctx, tx, AuditEvent{Action: "create", EntityKind: KindSource, EntityID: row.ID, EntityName: row.Name,
			Changes: sourceChanges(nil, row, true)})
	})
	return out, translate(err, "source", v.name)
}

func (s *Service) GetSource(ctx context.Context, id int64) (Source, error) {
	// One primary-key probe, the newest sample included: the single read is the API's
	// hottest path.
	row, err := s.q.GetSource(ctx, id)
	if err != nil {
		return Source{}, translate(err, "source", "")
	}
	return sourceFromRow(ctx, row), nil
}

func (s *Service) ListSources(ctx context.Context, p ListParams) (Page[Source], error) {
	if err := p.normalize(SourceSorts); err != nil {
		return Page[Source]{}, err
	}
	rows, total, estimated, err := list(ctx, s, sourceListQuery(p), p, sourceFields)
	if err != nil {
		return Page[Source]{}, translate(err, "source", "")
	}
	return Page[Source]{Items: sourcesFromRows(ctx, rows), Total: total, TotalIsEstimate: estimated, Limit: p.Limit, Offset: p.Offset}, nil
}

// sourceListQuery is the source list's statement for these (normalized) controls.
func sourceListQuery(p ListParams) listQuery {
	// The name grams (migration 00014) serve the name sorts' searches and every
	// searched total up to the cap; the other sorts' indexes carry the name.
	q := listQuery{table: "sources", from: "sources v", countFrom: "sources v", order: sourceOrder, sampled: sourceSampled,
		grams: "source_name_grams", gramsID: "source_id", sampledBelowCap: true}
	q.search(p.Q)
	return q
}

// sourcesFromRows converts rows to Sources, each carrying its newest WAL sample (on the
// row since migration 00012: no second statement).
func sourcesFromRows(ctx context.Context, rows []db.Source) []Source {
	items := make([]Source, len(rows))
	for i, r := range rows {
		items[i] = sourceFromRow(ctx, r)
	}
	return items
}

func (s *Service) UpdateSource(ctx context.Context, id int64, in SourcePatch) (Source, error) {
	var name string
	err := s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		cur, err := q.GetSourceForUpdate(ctx, id)
		if err != nil {
			return err
		}
		v, endpointChanged := patchedSourceValues(cur, in)
		name = v.name
		if err := v.validate(false, endpointChanged); err != nil {
			return err
		}
		sealed := cur.PgPassword
		if v.password != nil {
			if sealed, err = s.box.Seal(*v.password); err != nil {
				return apperr.Wrap(err, "cannot seal the password")
			}
		}
		row, err := q.UpdateSource(ctx, db.UpdateSourceParams{ID: id, Name: v.name, PgHost: v.host, PgPort: int32(v.port),
			PgDatabase: v.database, PgUsername: v.username, PgPassword: sealed, PublicationName: v.publication, ReplicationID: v.slot,
			TlsMode: v.tlsMode, TlsCaCert: optText(v.caCert), WalAlertThresholdBytes: v.threshold})
		if err != nil {
			return err
		}
		changes := sourceChanges(&cur, row, v.password != nil)
		if len(changes) == 0 {
			return nil
		}
		return s.record(ctx, tx, AuditEvent{Action: "update", EntityKind: KindSource, EntityID: id, EntityName: row.Name, Changes: changes})
	})
	if err != nil {
		return Source{}, translate(err, "source", name)
	}
	out, err := s.GetSource(ctx, id)
	if err != nil {
		return out, err
	}
	out.Warnings, err = sharedSlotWarning(ctx, s.q, id, Slot{Host: out.PgHost, Port: out.PgPort, Database: out.PgDatabase, Name: out.ReplicationID})
	return out, translate(err, "source", "")
}

// patchedSourceValues are a stored source's values with the patch applied, and whether
// the endpoint (where the stored password goes) changed. Save and "Test connection" on
// an edit form share it, so both apply the same password rule.
func patchedSourceValues(cur db.Source, in SourcePatch) (sourceValues, bool) {
	v := sourceValues{name: cur.Name, host: cur.PgHost, port: int(cur.PgPort), database: cur.PgDatabase,
		username: cur.PgUsername, publication: cur.PublicationName, slot: cur.ReplicationID,
		tlsMode: cur.TlsMode, caCert: caCertText(deref(cur.TlsCaCert))}
	before := v.endpoint()
	setStr(&v.name, trimmedPtr(in.Name))
	setStr(&v.host, trimmedPtr(in.PgHost))
	setStr(&v.database, in.PgDatabase)
	setStr(&v.username, in.PgUsername)
	setStr(&v.publication, trimmedPtr(in.PublicationName))
	setStr(&v.slot, trimmedPtr(in.ReplicationID))
	if in.PgPort != nil {
		v.port = *in.PgPort
	}
	setStr(&v.tlsMode, in.TLSMode)
	if in.TLSCACert != nil {
		v.caCert = caCertText(*in.TLSCACert)
	}
	v.password = in.PgPassword
	v.threshold = cur.WalAlertThresholdBytes
	if in.WALAlertThresholdBytes != nil {
		v.threshold = thresholdArg(in.WALAlertThresholdBytes)
		if *in.WALAlertThresholdBytes < 0 {
			v.threshold = in.WALAlertThresholdBytes // reported by validate
		}
	}
	return v, v.endpoint() != before
}

// DeleteSource refuses while pipelines use the source, naming them. Its WAL samples go
// with it (ON DELETE CASCADE).
func (s *Service) DeleteSource(ctx context.Context, id int64) error {
	return s.deleteUnused(ctx, KindSource, id, db.PipelinesUsingParams{SourceID: &id},
		func(q *db.Queries) (string, error) {
			cur, err := q.GetSourceForUpdate(ctx, id)
			return cur.Name, err
		},
		func(q *db.Queries) error {
			_, err := q.DeleteSource(ctx, id)
			return err
		})
}

// deleteUnused is the one "delete only if no pipeline uses it" for sources and
// destinations. lock takes the row lock and returns the name: it orders this delete
// against a concurrent pipeline insert (which takes a key-share lock on the row), so the
// in-use check cannot go stale before the delete commits.
func (s *Service) deleteUnused(ctx context.Context, kind string, id int64, using db.PipelinesUsingParams,
	lock func(*db.Queries) (string, error), del func(*db.Queries) error) error {
	err := s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		name, err := lock(q)
		if err != nil {
			return err
		}
		users, err := q.PipelinesUsing(ctx, using)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return inUse(kind, name, users)
		}
		if err := del(q); err != nil {
			return err
		}
		return s.record(ctx, tx, AuditEvent{Action: "delete", EntityKind: kind, EntityID: id, EntityName: name})
	})
	return translate(err, kind, "")
}

// TestSource runs the connection checks against the real source, changing nothing.
func (s *Service) TestSource(ctx context.Context, id int64) ([]pgsource.Check, error) {
	conn, _, err := s.sourceConn(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.preflight(ctx, conn.Conn, conn.publication, conn.slot), nil
}

// TestNewSource runs the connection checks on a source as typed, saving nothing: a
// broken source is found before it is registered. The input is validated as a create
// would validate it (Invalid, per field, the same messages).
func (s *Service) TestNewSource(ctx context.Context, in SourceInput) ([]pgsource.Check, error) {
	v := newSourceValues(in)
	if err := v.validate(true, false); err != nil {
		return nil, err
	}
	return s.checkValues(ctx, v, *v.password), nil
}

// TestSourceChanges runs the connection checks on a stored source with the patch
// applied, saving nothing. The stored password is used only where a save would keep it:
// when the endpoint (host, port, database, user) is unchanged; otherwise the password
// must be typed again, the same field error a save gives.
func (s *Service) TestSourceChanges(ctx context.Context, id int64, in SourcePatch) ([]pgsource.Check, error) {
	cur, err := s.q.GetSource(ctx, id)
	if err != nil {
		return nil, translate(err, "source", "")
	}
	v, endpointChanged := patchedSourceValues(cur, in)
	if err := v.validate(false, endpointChanged); err != nil {
		return nil, err
	}
	var pw string
	if v.password != nil {
		pw = *v.password
	} else if pw, err = s.box.Open(cur.PgPassword); err != nil {
		return nil, apperr.Wrap(err, "cannot open the stored password of source %d", id)
	}
	return s.checkValues(ctx, v, pw), nil
}

// checkValues runs the checks on unsaved values, connecting through connOf like every
// other connection to a source.
func (s *Service) checkValues(ctx context.Context, v sourceValues, password string) []pgsource.Check {
	row := db.Source{PgHost: v.host, PgPort: int32(v.port), PgDatabase: v.database, PgUsername: v.username,
		TlsMode: v.tlsMode, TlsCaCert: optText(v.caCert)}
	return s.preflight(ctx, connOf(row, password), v.publication, v.slot)
}

type sourceConn struct {
	pgsource.Conn
	publication, slot string
}

// sourceConn loads a source with its opened password, for talking to it.
func (s *Service) sourceConn(ctx context.Context, id int64) (sourceConn, db.Source, error) {
	row, err := s.q.GetSource(ctx, id)
	if err != nil {
		return sourceConn{}, row, translate(err, "source", "")
	}
	c, err := s.connOf(row)
	if err != nil {
		return sourceConn{}, row, err
	}
	return sourceConn{Conn: c, publication: row.PublicationName, slot: row.ReplicationID}, row, nil
}

// connOf opens a stored source's sealed password and maps the row with connOf (the test,
// the preflight and the WAL monitor all connect through it).
func (s *Service) connOf(row db.Source) (pgsource.Conn, error) {
	pw, err := s.box.Open(row.PgPassword)
	if err != nil {
		return pgsource.Conn{}, apperr.Wrap(err, "cannot open the stored password of source %d", row.ID)
	}
	return connOf(row, pw), nil
}

// connOf is how Rosetta reaches a stored source, given its opened password: the one
// place a row becomes a pgsource.Conn, so the test, preflight and the WAL monitor all
// connect with the source's TLS mode and CA.
func connOf(row db.Source, password string) pgsource.Conn {
	return pgsource.Conn{Host: row.PgHost, Port: int(row.PgPort), Database: row.PgDatabase, User: row.PgUsername,
		Password: password, TLSMode: pgsource.TLSMode(row.TlsMode), CACert: deref(row.TlsCaCert)}
}

// inUse is the refusal to delete a source or destination that pipelines still use,
// naming them so the operator knows what to change first.
func inUse(kind, name string, users []db.PipelinesUsingRow) error {
	refs := make([]apperr.Ref, len(users))
	for i, u := range users {
		refs[i] = apperr.Ref{Kind: "pipeline", ID: u.ID, Name: u.Name}
	}
	return &apperr.Error{Code: apperr.Conflict, Related: refs,
		Message: fmt.Sprintf("%s %q is used by %s; delete or re-point them first", kind, name, describeRefs(refs))}
}

func describeRefs(refs []apperr.Ref) string {
	noun := "pipeline"
	if len(refs) > 1 {
		noun = "pipelines"
	}
	names := ""
	for i, r := range refs {
		if i > 0 {
			names += ", "
		}
		names += fmt.Sprintf("%q", r.Name)
	}
	return noun + " " + names
}

func setStr(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// sourceChanges lists the fields that differ, for the audit log; the password only as "changed".
func sourceChanges(before *db.Source, after db.Source, passwordChanged bool) map[string]any {
	return changesOf(before, after, "pg_password", passwordChanged, func(c map[string]any, b, a db.Source) {
		diff(c, "name", b.Name, a.Name)
		diff(c, "pg_host", b.PgHost, a.PgHost)
		diff(c, "pg_port", b.PgPort, a.PgPort)
		diff(c, "pg_database", b.PgDatabase, a.PgDatabase)
		diff(c, "pg_username", b.PgUsername, a.PgUsername)
		diff(c, "publication_name", b.PublicationName, a.PublicationName)
		diff(c, "replication_id", b.ReplicationID, a.ReplicationID)
		if !equalPtr(b.WalAlertThresholdBytes, a.WalAlertThresholdBytes) {
			c["wal_alert_threshold_bytes"] = map[string]any{"from": b.WalAlertThresholdBytes, "to": a.WalAlertThresholdBytes}
		}
		diff(c, "tls_mode", b.TlsMode, a.TlsMode)
		if deref(b.TlsCaCert) != deref(a.TlsCaCert) {
			// The certificate is public but long: the log says it changed, not what it says.
			c["tls_ca_cert"] = "(changed)"
		}
	})
}

// changesOf is what an audit row records of a change: the fields that differ between
// before (nil on create) and after, {from, to}, and the secret named secret only as
// "(changed)", never its value.
func changesOf[T any](before *T, after T, secret string, secretChanged bool, fields func(c map[string]any, b, a T)) map[string]any {
	c := map[string]any{}
	var b T
	if before != nil {
		b = *before
	}
	fields(c, b, after)
	if secretChanged {
		c[secret] = "(changed)"
	}
	return c
}

func diff[T comparable](c map[string]any, field string, before, after T) {
	if before != after {
		c[field] = map[string]any{"from": before, "to": after}
	}
}

// thresholdArg maps the API's "0 = the default" onto NULL.
func thresholdArg(v *int64) *int64 {
	if v == nil || *v == 0 {
		return nil
	}
	return v
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func tlsModeNames() []string {
	out := make([]string, len(pgsource.TLSModes))
	for i, m := range pgsource.TLSModes {
		out[i] = string(m)
	}
	return out
}

// caCertText normalises a pasted certificate: surrounding blank space (and Windows line
// ends from a paste) are not part of it.
func caCertText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

func optText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
