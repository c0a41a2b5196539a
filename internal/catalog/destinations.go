package catalog

import (
	"context"
	"encoding/pem"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// DestinationInput creates a Snowflake destination.
type DestinationInput struct {
	Name                          string  `json:"name" minLength:"1" maxLength:"100" doc:"Unique name (case-insensitive), 1-100 characters" example:"analytics"`
	SnowflakeAccount              string  `json:"snowflake_account" doc:"Account identifier (orgname-accountname or locator)" example:"acme-analytics"`
	SnowflakeUser                 string  `json:"snowflake_user" example:"ROSETTA"`
	SnowflakeDatabase             string  `json:"snowflake_database" example:"RAW"`
	SnowflakeSchema               string  `json:"snowflake_schema" example:"ORDERS"`
	SnowflakeRole                 string  `json:"snowflake_role" example:"ROSETTA_LOADER"`
	SnowflakePrivateKeyPath       string  `json:"snowflake_private_key_path,omitempty" doc:"Absolute path of the key-pair authentication private key on the Rosetta server; give this or snowflake_private_key" example:"/etc/rosetta/snowflake_key.p8"`
	SnowflakeHost                 *string `json:"snowflake_host,omitempty" doc:"Defaults to <account>.snowflakecomputing.com"`
	SnowflakeWarehouse            *string `json:"snowflake_warehouse,omitempty" example:"LOADING_WH"`
	SnowflakePrivateKeyPassphrase *string `json:"snowflake_private_key_passphrase,omitempty" writeOnly:"true" doc:"Passphrase of an encrypted private key; stored sealed, never returned"`
	SnowflakePrivateKey           *string `json:"snowflake_private_key,omitempty" writeOnly:"true" doc:"The PEM private key itself, pasted instead of a file path (no shell on the server needed); stored sealed, never returned"`
}

// DestinationPatch changes the fields given and keeps the rest. An empty string clears
// the optional snowflake_host, snowflake_warehouse and snowflake_private_key_passphrase.
type DestinationPatch struct {
	Name                          *string `json:"name,omitempty"`
	SnowflakeAccount              *string `json:"snowflake_account,omitempty"`
	SnowflakeUser                 *string `json:"snowflake_user,omitempty"`
	SnowflakeDatabase             *string `json:"snowflake_database,omitempty"`
	SnowflakeSchema               *string `json:"snowflake_schema,omitempty"`
	SnowflakeRole                 *string `json:"snowflake_role,omitempty"`
	SnowflakePrivateKeyPath       *string `json:"snowflake_private_key_path,omitempty"`
	SnowflakeHost                 *string `json:"snowflake_host,omitempty"`
	SnowflakeWarehouse            *string `json:"snowflake_warehouse,omitempty"`
	SnowflakePrivateKeyPassphrase *string `json:"snowflake_private_key_passphrase,omitempty" writeOnly:"true"`
	// Giving a key path drops a pasted key and pasting a key drops the path; "" removes
	// the pasted key (a path must then be given).
	SnowflakePrivateKey *string `json:"snowflake_private_key,omitempty" writeOnly:"true"`
}

type Destination struct {
	ID                               int64   `json:"id"`
	Name                             string  `json:"name"`
	SnowflakeAccount                 string  `json:"snowflake_account"`
	SnowflakeUser                    string  `json:"snowflake_user"`
	SnowflakeDatabase                string  `json:"snowflake_database"`
	SnowflakeSchema                  string  `json:"snowflake_schema"`
	SnowflakeRole                    string  `json:"snowflake_role"`
	SnowflakePrivateKeyPath          string  `json:"snowflake_private_key_path,omitempty" doc:"Empty when the key is pasted (snowflake_private_key_set)"`
	SnowflakeHost                    string  `json:"snowflake_host" doc:"The configured host, or the account's default host"`
	SnowflakeHostIsDefault           bool    `json:"snowflake_host_is_default"`
	SnowflakeWarehouse               *string `json:"snowflake_warehouse,omitempty"`
	SnowflakePrivateKeyPassphraseSet bool    `json:"snowflake_private_key_passphrase_set"`
	SnowflakePrivateKeySet           bool    `json:"snowflake_private_key_set" doc:"True when the key is pasted (stored sealed) rather than a file"`
	// LastTest is the outcome of the last "Test connection" or preflight; absent until
	// the destination has been checked once.
	LastTest  *DestinationTestOutcome `json:"last_test,omitempty"`
	CreatedAt time.Time               `json:"created_at"`
	UpdatedAt time.Time               `json:"updated_at"`
}

// DestinationTestOutcome is what the destination list shows of the last check.
type DestinationTestOutcome struct {
	Status  string    `json:"status" enum:"ok,warn,fail"`
	Summary string    `json:"summary"`
	At      time.Time `json:"at"`
}

var DestinationSorts = []string{"name", "-name", "created_at", "-created_at", "account", "-account"}

// DefaultSnowflakeHost is where an account's endpoint lives unless configured otherwise.
func DefaultSnowflakeHost(account string) string {
	return strings.ToLower(account) + ".snowflakecomputing.com"
}

func destinationFromRow(r db.Destination) Destination {
	d := Destination{
		ID: r.ID, Name: r.Name, SnowflakeAccount: r.SnowflakeAccount, SnowflakeUser: r.SnowflakeUser,
		SnowflakeDatabase: r.SnowflakeDatabase, SnowflakeSchema: r.SnowflakeSchema, SnowflakeRole: r.SnowflakeRole,
		SnowflakePrivateKeyPath: deref(r.SnowflakePrivateKeyPath), SnowflakeWarehouse: r.SnowflakeWarehouse,
		SnowflakePrivateKeyPassphraseSet: len(r.SnowflakePrivateKeyPassphrase) > 0,
		SnowflakePrivateKeySet:           len(r.SnowflakePrivateKey) > 0,
		CreatedAt:                        utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
	}
	if r.LastTestStatus != nil && r.LastTestAt != nil {
		d.LastTest = &DestinationTestOutcome{Status: *r.LastTestStatus, Summary: deref(r.LastTestSummary), At: utc(*r.LastTestAt)}
	}
	if r.SnowflakeHost != nil {
		d.SnowflakeHost = *r.SnowflakeHost
	} else {
		d.SnowflakeHost = DefaultSnowflakeHost(r.SnowflakeAccount)
		d.SnowflakeHostIsDefault = true
	}
	return d
}

type destinationValues struct {
	name, account, user, database, schema, role, keyPath string
	host, warehouse                                      *string // nil = not set
	passphrase                                           *string // nil = keep; "" = clear
	hasKey                                               bool    // a pasted key is stored after this change
	newKey                                               *string // a newly pasted key to seal; nil = keep
}

func (v *destinationValues) validate() error {
	var f apperr.Fields
	validName(&f, "name", v.name)
	validPattern(&f, "snowflake_account", v.account, sfAccountRe, 255,
		"must be a Snowflake account identifier like orgname-accountname or xy12345.us-east-2.aws")
	validPattern(&f, "snowflake_user", v.user, sfUserRe, 255, "must be a Snowflake user name (letters, digits, _ . @ $ -)")
	const ident = "must be a Snowflake identifier: a letter or _, then letters, digits, _ or $"
	validPattern(&f, "snowflake_database", v.database, sfIdentRe, 255, ident)
	validPattern(&f, "snowflake_schema", v.schema, sfIdentRe, 255, ident)
	validPattern(&f, "snowflake_role", v.role, sfIdentRe, 255, ident)
	v.validateKeySource(&f)
	if v.host != nil {
		validHost(&f, "snowflake_host", *v.host)
	}
	if v.warehouse != nil {
		validPattern(&f, "snowflake_warehouse", *v.warehouse, sfIdentRe, 255, ident)
	}
	if v.passphrase != nil && len(*v.passphrase) > 1024 {
		f.Add("snowflake_private_key_passphrase", "must be at most 1024 bytes")
	}
	validSecret(&f, "snowflake_private_key_passphrase", v.passphrase)
	return f.Err()
}

// maxPastedKey bounds a pasted key: a PEM RSA key is a few KB.
const maxPastedKey = 16 << 10

// validateKeySource enforces exactly one key source: a file on the server or a pasted key.
func (v *destinationValues) validateKeySource(f *apperr.Fields) {
	const pathField, keyField = "snowflake_private_key_path", "snowflake_private_key"
	switch {
	case v.keyPath == "" && !v.hasKey:
		f.Add(pathField, "is required unless snowflake_private_key is given: the key file's absolute path on the Rosetta server")
		f.Add(keyField, "is required unless snowflake_private_key_path is given: paste the PEM private key")
		return
	case v.keyPath != "" && v.hasKey:
		f.Add(pathField, "give either snowflake_private_key_path or snowflake_private_key, not both")
		f.Add(keyField, "give either snowflake_private_key or snowflake_private_key_path, not both")
		return
	case v.keyPath != "":
		validAbsPath(f, pathField, v.keyPath)
	}
	if v.newKey != nil {
		if len(*v.newKey) > maxPastedKey {
			f.Add(keyField, "must be at most %d KB", maxPastedKey>>10)
		} else if b, _ := pem.Decode([]byte(*v.newKey)); b == nil {
			f.Add(keyField, "must be a PEM private key, beginning with -----BEGIN PRIVATE KEY----- or -----BEGIN ENCRYPTED PRIVATE KEY-----")
		}
	}
}

// pastedKey normalises a pasted key: surrounding blanks go, "" means none.
func pastedKey(p *string) *string {
	if p == nil || strings.TrimSpace(*p) == "" {
		return nil
	}
	t := strings.TrimSpace(*p) + "\n"
	return &t
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// emptyToNil maps an optional field's "" to unset.
func emptyToNil(p *string) *string {
	if p == nil || strings.TrimSpace(*p) == "" {
		return nil
	}
	t := strings.TrimSpace(*p)
	return &t
}

func (s *Service) sealOptional(p *string) ([]byte, error) {
	if p == nil || *p == "" {
		return nil, nil
	}
	b, err := s.box.Seal(*p)
	if err != nil {
		return nil, apperr.Wrap(err, "cannot seal the secret")
	}
	return b, nil
}

// newDestinationValues are a new destination's values as given.
func newDestinationValues(in DestinationInput) destinationValues {
	v := destinationValues{
		name: trimmed(in.Name), account: trimmed(in.SnowflakeAccount), user: trimmed(in.SnowflakeUser),
		database: trimmed(in.SnowflakeDatabase), schema: trimmed(in.SnowflakeSchema), role: trimmed(in.SnowflakeRole),
		keyPath: trimmed(in.SnowflakePrivateKeyPath), host: emptyToNil(in.SnowflakeHost), warehouse: emptyToNil(in.SnowflakeWarehouse),
		passphrase: in.SnowflakePrivateKeyPassphrase, newKey: pastedKey(in.SnowflakePrivateKey),
	}
	v.hasKey = v.newKey != nil
	return v
}

func (s *Service) CreateDestination(ctx context.Context, in DestinationInput) (Destination, error) {
	v := newDestinationValues(in)
	if err := v.validate(); err != nil {
		return Destination{}, err
	}
	sealed, err := s.sealOptional(v.passphrase)
	if err != nil {
		return Destination{}, err
	}
	sealedKey, err := s.sealOptional(v.newKey)
	if err != nil {
		return Destination{}, err
	}
	var out Destination
	err = s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		row, err := q.CreateDestination(ctx, db.CreateDestinationParams{
			Name: v.name, SnowflakeAccount: v.account, SnowflakeUser: v.user, SnowflakeDatabase: v.database,
			SnowflakeSchema: v.schema, SnowflakeRole: v.role, SnowflakePrivateKeyPath: nilIfEmpty(v.keyPath),
			SnowflakeHost: v.host, SnowflakeWarehouse: v.warehouse, SnowflakePrivateKeyPassphrase: sealed,
			SnowflakePrivateKey: sealedKey,
		})
		if err != nil {
			return err
		}
		out = destinationFromRow(row)
		return s.record(ctx, tx, AuditEvent{Action: "create", EntityKind: KindDestination, EntityID: row.ID, EntityName: row.Name,
			Changes: destinationChanges(nil, row, sealed != nil, sealedKey != nil)})
	})
	return out, translate(err, "destination", v.name)
}

func (s *Service) GetDestination(ctx context.Context, id int64) (Destination, error) {
	row, err := s.q.GetDestination(ctx, id)
	if err != nil {
		return Destination{}, translate(err, "destination", "")
	}
	return destinationFromRow(row), nil
}

// destinationListQuery is the destination list's statement for these (normalized)
// controls.
func destinationListQuery(p ListParams) listQuery {
	// No name grams (unlike sources, migration 00014): at a few thousand destinations a
	// search reads its matches through the trigram index for about what its page costs
	// (BENCHMARKS.md, seventh pass), and grams would cost every destination write.
	q := listQuery{table: "destinations", from: "destinations v", countFrom: "destinations v", order: destinationOrder}
	q.search(p.Q)
	return q
}

func (s *Service) ListDestinations(ctx context.Context, p ListParams) (Page[Destination], error) {
	if err := p.normalize(DestinationSorts); err != nil {
		return Page[Destination]{}, err
	}
	rows, total, estimated, err := list(ctx, s, destinationListQuery(p), p, byPosition[db.Destination]())
	if err != nil {
		return Page[Destination]{}, translate(err, "destination", "")
	}
	items := make([]Destination, len(rows))
	for i, r := range rows {
		items[i] = destinationFromRow(r)
	}
	return Page[Destination]{Items: items, Total: total, TotalIsEstimate: estimated, Limit: p.Limit, Offset: p.Offset}, nil
}

func (s *Service) UpdateDestination(ctx context.Context, id int64, in DestinationPatch) (Destination, error) {
	var out Destination
	var name string
	err := s.pool.InTx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		cur, err := q.GetDestinationForUpdate(ctx, id)
		if err != nil {
			return err
		}
		v := patchedDestinationValues(cur, in)
		name = v.name
		if err := v.validate(); err != nil {
			return err
		}
		sealed := cur.SnowflakePrivateKeyPassphrase
		if v.passphrase != nil {
			if sealed, err = s.sealOptional(v.passphrase); err != nil {
				return err
			}
		}
		sealedKey := cur.SnowflakePrivateKey
		switch {
		case v.newKey != nil:
			if sealedKey, err = s.sealOptional(v.newKey); err != nil {
				return err
			}
		case !v.hasKey:
			sealedKey = nil
		}
		row, err := q.UpdateDestination(ctx, db.UpdateDestinationParams{ID: id, Name: v.name, SnowflakeAccount: v.account,
			SnowflakeUser: v.user, SnowflakeDatabase: v.database, SnowflakeSchema: v.schema, SnowflakeRole: v.role,
			SnowflakePrivateKeyPath: nilIfEmpty(v.keyPath), SnowflakeHost: v.host, SnowflakeWarehouse: v.warehouse,
			SnowflakePrivateKeyPassphrase: sealed, SnowflakePrivateKey: sealedKey})
		if err != nil {
			return err
		}
		out = destinationFromRow(row)
		changes := destinationChanges(&cur, row, v.passphrase != nil, v.newKey != nil || len(cur.SnowflakePrivateKey) != len(sealedKey))
		if len(changes) == 0 {
			return nil
		}
		return s.record(ctx, tx, AuditEvent{Action: "update", EntityKind: KindDestination, EntityID: id, EntityName: row.Name, Changes: changes})
	})
	return out, translate(err, "destination", name)
}

// patchedDestinationValues are a stored destination's values with the patch applied;
// save and "Test connection" on an edit form share it.
func patchedDestinationValues(cur db.Destination, in DestinationPatch) destinationValues {
	v := destinationValues{name: cur.Name, account: cur.SnowflakeAccount, user: cur.SnowflakeUser,
		database: cur.SnowflakeDatabase, schema: cur.SnowflakeSchema, role: cur.SnowflakeRole,
		keyPath: deref(cur.SnowflakePrivateKeyPath), host: cur.SnowflakeHost, warehouse: cur.SnowflakeWarehouse,
		hasKey: len(cur.SnowflakePrivateKey) > 0}
	setStr(&v.name, trimmedPtr(in.Name))
	setStr(&v.account, trimmedPtr(in.SnowflakeAccount))
	setStr(&v.user, trimmedPtr(in.SnowflakeUser))
	setStr(&v.database, trimmedPtr(in.SnowflakeDatabase))
	setStr(&v.schema, trimmedPtr(in.SnowflakeSchema))
	setStr(&v.role, trimmedPtr(in.SnowflakeRole))
	setStr(&v.keyPath, trimmedPtr(in.SnowflakePrivateKeyPath))
	v.newKey = pastedKey(in.SnowflakePrivateKey)
	pathGiven := in.SnowflakePrivateKeyPath != nil && v.keyPath != ""
	switch {
	case v.newKey != nil:
		v.hasKey = true
		if in.SnowflakePrivateKeyPath == nil {
			v.keyPath = "" // a pasted key replaces the file
		}
	case in.SnowflakePrivateKey != nil: // "" removes the pasted key
		v.hasKey = false
	case pathGiven:
		v.hasKey = false // a path replaces the pasted key
	}
	if in.SnowflakeHost != nil {
		v.host = emptyToNil(in.SnowflakeHost)
	}
	if in.SnowflakeWarehouse != nil {
		v.warehouse = emptyToNil(in.SnowflakeWarehouse)
	}
	v.passphrase = in.SnowflakePrivateKeyPassphrase
	return v
}

// DeleteDestination refuses while pipelines use the destination, naming them.
func (s *Service) DeleteDestination(ctx context.Context, id int64) error {
	return s.deleteUnused(ctx, KindDestination, id, db.PipelinesUsingParams{DestinationID: &id},
		func(q *db.Queries) (string, error) {
			cur, err := q.GetDestinationForUpdate(ctx, id)
			return cur.Name, err
		},
		func(q *db.Queries) error {
			_, err := q.DeleteDestination(ctx, id)
			return err
		})
}

// destinationChanges lists the fields that differ, for the audit log; the passphrase and
// a pasted key only as "changed", never their values.
func destinationChanges(before *db.Destination, after db.Destination, passphraseChanged, keyChanged bool) map[string]any {
	return changesOf(before, after, "snowflake_private_key_passphrase", passphraseChanged, func(c map[string]any, b, a db.Destination) {
		diff(c, "name", b.Name, a.Name)
		diff(c, "snowflake_account", b.SnowflakeAccount, a.SnowflakeAccount)
		diff(c, "snowflake_user", b.SnowflakeUser, a.SnowflakeUser)
		diff(c, "snowflake_database", b.SnowflakeDatabase, a.SnowflakeDatabase)
		diff(c, "snowflake_schema", b.SnowflakeSchema, a.SnowflakeSchema)
		diff(c, "snowflake_role", b.SnowflakeRole, a.SnowflakeRole)
		diff(c, "snowflake_private_key_path", deref(b.SnowflakePrivateKeyPath), deref(a.SnowflakePrivateKeyPath))
		diff(c, "snowflake_host", deref(b.SnowflakeHost), deref(a.SnowflakeHost))
		diff(c, "snowflake_warehouse", deref(b.SnowflakeWarehouse), deref(a.SnowflakeWarehouse))
		if keyChanged {
			c["snowflake_private_key"] = "(changed)"
		}
	})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
