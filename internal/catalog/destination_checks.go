package catalog

import (
	"context"
	"fmt"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/internal/snowflake"
)

// DestinationTestResult is the outcome of a destination's checks.
type DestinationTestResult struct {
	Checks []pgsource.Check
	// Fingerprint of the key's public half, as DESC USER shows it; "" when the key
	// could not be read.
	Fingerprint string
	// Unreachable: Snowflake could not be reached at all (see snowflake.Report).
	Unreachable bool
}

// WithSnowflakeOptions sets how destination checks reach Snowflake (tests point them at
// a local TLS server).
func WithSnowflakeOptions(o snowflake.Options) Option { return func(s *Service) { s.snowflake = o } }

// TestDestination runs the destination's checks (changing nothing in Snowflake) and
// records their outcome for the destination list.
func (s *Service) TestDestination(ctx context.Context, id int64) (DestinationTestResult, error) {
	row, err := s.q.GetDestination(ctx, id)
	if err != nil {
		return DestinationTestResult{}, translate(err, "destination", "")
	}
	return s.checkDestination(ctx, row)
}

// TestNewDestination runs the checks on a destination as typed, saving nothing (and
// recording no outcome: there is no destination yet). The input is validated as a
// create would validate it.
func (s *Service) TestNewDestination(ctx context.Context, in DestinationInput) (DestinationTestResult, error) {
	v := newDestinationValues(in)
	if err := v.validate(); err != nil {
		return DestinationTestResult{}, err
	}
	return s.checkDestinationValues(ctx, v, db.Destination{})
}

// TestDestinationChanges runs the checks on a stored destination with the patch
// applied, saving nothing and recording nothing: the stored key and passphrase are used
// where a save would keep them.
func (s *Service) TestDestinationChanges(ctx context.Context, id int64, in DestinationPatch) (DestinationTestResult, error) {
	cur, err := s.q.GetDestination(ctx, id)
	if err != nil {
		return DestinationTestResult{}, translate(err, "destination", "")
	}
	v := patchedDestinationValues(cur, in)
	if err := v.validate(); err != nil {
		return DestinationTestResult{}, err
	}
	return s.checkDestinationValues(ctx, v, cur)
}

// checkDestinationValues checks unsaved values; cur holds the stored secrets a value
// keeps (nil fields when there are none).
func (s *Service) checkDestinationValues(ctx context.Context, v destinationValues, cur db.Destination) (DestinationTestResult, error) {
	row := db.Destination{ID: cur.ID, SnowflakeAccount: v.account, SnowflakeHost: v.host, SnowflakeUser: v.user,
		SnowflakeRole: v.role, SnowflakeDatabase: v.database, SnowflakeSchema: v.schema, SnowflakeWarehouse: v.warehouse,
		SnowflakePrivateKeyPath: nilIfEmpty(v.keyPath)}
	cfg := snowflakeConfig(row)
	switch {
	case v.passphrase != nil:
		cfg.Passphrase = []byte(*v.passphrase)
	case len(cur.SnowflakePrivateKeyPassphrase) > 0:
		pp, err := s.box.Open(cur.SnowflakePrivateKeyPassphrase)
		if err != nil {
			return DestinationTestResult{}, apperr.Wrap(err, "cannot open the stored passphrase of destination %d", cur.ID)
		}
		cfg.Passphrase = []byte(pp)
	}
	switch {
	case v.newKey != nil:
		cfg.PrivateKeyPEM = []byte(*v.newKey)
	case v.hasKey && len(cur.SnowflakePrivateKey) > 0:
		key, err := s.box.Open(cur.SnowflakePrivateKey)
		if err != nil {
			return DestinationTestResult{}, apperr.Wrap(err, "cannot open the stored private key of destination %d", cur.ID)
		}
		cfg.PrivateKeyPEM = []byte(key)
	}
	rep := snowflake.RunChecks(ctx, cfg, s.snowflake)
	return DestinationTestResult{Checks: rep.Checks, Fingerprint: rep.Fingerprint, Unreachable: rep.Unreachable}, nil
}

// checkDestination opens the destination's secrets in memory for the checks only; they
// go no further than snowflake.RunChecks, whose sentences never quote them.
func (s *Service) checkDestination(ctx context.Context, row db.Destination) (DestinationTestResult, error) {
	cfg := snowflakeConfig(row)
	if err := s.openDestinationSecrets(row, &cfg); err != nil {
		return DestinationTestResult{}, err
	}
	rep := snowflake.RunChecks(ctx, cfg, s.snowflake)
	res := DestinationTestResult{Checks: rep.Checks, Fingerprint: rep.Fingerprint, Unreachable: rep.Unreachable}

	status, summary := testOutcome(rep.Checks)
	// The outcome is a note beside the destination, not part of the caller's action:
	// failing to store it must not fail the test or the start.
	_ = s.q.RecordDestinationTest(context.WithoutCancel(ctx), db.RecordDestinationTestParams{
		ID: row.ID, Status: &status, Summary: &summary})
	return res, nil
}

// snowflakeConfig is a destination row as snowflake.Config, without its secrets.
func snowflakeConfig(row db.Destination) snowflake.Config {
	return snowflake.Config{
		Account: row.SnowflakeAccount, Host: deref(row.SnowflakeHost), User: row.SnowflakeUser, Role: row.SnowflakeRole,
		Database: row.SnowflakeDatabase, Schema: row.SnowflakeSchema, Warehouse: deref(row.SnowflakeWarehouse),
		PrivateKeyPath: deref(row.SnowflakePrivateKeyPath),
	}
}

// openDestinationSecrets opens a stored destination's passphrase and pasted key into cfg.
func (s *Service) openDestinationSecrets(row db.Destination, cfg *snowflake.Config) error {
	if len(row.SnowflakePrivateKeyPassphrase) > 0 {
		pp, err := s.box.Open(row.SnowflakePrivateKeyPassphrase)
		if err != nil {
			return apperr.Wrap(err, "cannot open the stored passphrase of destination %d", row.ID)
		}
		cfg.Passphrase = []byte(pp)
	}
	if len(row.SnowflakePrivateKey) > 0 {
		key, err := s.box.Open(row.SnowflakePrivateKey)
		if err != nil {
			return apperr.Wrap(err, "cannot open the stored private key of destination %d", row.ID)
		}
		cfg.PrivateKeyPEM = []byte(key)
	}
	return nil
}

// testOutcome is the overall status and the sentence the destination list shows.
func testOutcome(checks []pgsource.Check) (string, string) {
	worst := snowflake.Worst(checks)
	if worst == snowflake.StatusOK {
		return string(worst), fmt.Sprintf("all %d checks passed", len(checks))
	}
	for _, c := range checks {
		if c.Status == worst {
			return string(worst), c.Name + ": " + c.Message
		}
	}
	return string(worst), ""
}

// preflightView is the destination's checks as a start reports them: a network check
// that failed only because Snowflake was unreachable did not block, so it reads as a
// warning there (a "Test connection" reports it as the failure it is).
func preflightView(r DestinationTestResult) []pgsource.Check {
	out := make([]pgsource.Check, len(r.Checks))
	for i, c := range r.Checks {
		if r.Unreachable && c.Status == pgsource.StatusFail && snowflake.IsNetworkCheck(c.Name) {
			c.Status = pgsource.StatusWarn
		}
		out[i] = c
	}
	return out
}

// destinationVerdict applies the preflight rule: a failing local check or a sign-in
// Snowflake rejects blocks the start; Snowflake being unreachable from Rosetta does not,
// since the control plane is not always on the path the data takes. That case returns a
// warning for the pipeline instead.
func destinationVerdict(r DestinationTestResult) (blocking *pgsource.Check, warning string) {
	for i, c := range r.Checks {
		if c.Status != pgsource.StatusFail {
			continue
		}
		if r.Unreachable && snowflake.IsNetworkCheck(c.Name) {
			if warning == "" {
				warning = "Snowflake could not be reached from Rosetta when the pipeline started, so its sign-in was not checked: " + c.Message
			}
			continue
		}
		return &r.Checks[i], ""
	}
	return nil, warning
}
