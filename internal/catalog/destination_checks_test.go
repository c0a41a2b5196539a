package catalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/snowflake/sftest"
)

func ptr[T any](v T) *T { return &v }

// TestPreflightDestinationKeyMissing: a pipeline whose destination's key file does not
// exist goes START/ERROR with the key check's sentence, though its source is fine.
func TestPreflightDestinationKeyMissing(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	src, err := svc.CreateSource(ctx, catalog.SourceInput{Name: "good", PgHost: "db.internal", PgDatabase: "orders",
		PgUsername: "u", PgPassword: "p", PublicationName: "pub", ReplicationID: "slot"})
	if err != nil {
		t.Fatal(err)
	}
	missing := t.TempDir() + "/rsa_key.p8"
	dst, err := svc.CreateDestination(ctx, catalog.DestinationInput{Name: "dst", SnowflakeAccount: "acme-analytics",
		SnowflakeUser: "U", SnowflakeDatabase: "D", SnowflakeSchema: "S", SnowflakeRole: "R", SnowflakePrivateKeyPath: missing,
		SnowflakeHost: ptr(sftest.OfflineHost)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreatePipeline(ctx, catalog.PipelineInput{Name: "p", SourceID: src.ID, DestinationID: dst.ID})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Start(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Pipeline.Metadata
	if res.Pipeline.Status != catalog.DesiredStart || m.Status != catalog.RuntimeError || m.LastError == nil {
		t.Fatalf("after start: %+v", res.Pipeline)
	}
	want := `destination check "private_key" failed: private key file ` + missing + ` does not exist on the Rosetta server`
	if !strings.HasPrefix(*m.LastError, want) {
		t.Errorf("last_error %q, want it to start %q", *m.LastError, want)
	}
	if m.PreflightWarning != nil {
		t.Errorf("an error start carries a warning: %q", *m.PreflightWarning)
	}
	if len(res.DestinationPreflight) == 0 {
		t.Error("the destination checks are not in the answer")
	}
	// The outcome is recorded on the destination.
	d, err := svc.GetDestination(ctx, dst.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.LastTest == nil || d.LastTest.Status != "fail" || !strings.Contains(d.LastTest.Summary, "does not exist") {
		t.Errorf("last test: %+v", d.LastTest)
	}

	// Pasting a working key fixes it; Snowflake is unreachable from here, which warns
	// but does not block the start.
	if _, err := svc.UpdateDestination(ctx, dst.ID, catalog.DestinationPatch{SnowflakePrivateKey: ptr(sftest.KeyPEM())}); err != nil {
		t.Fatal(err)
	}
	res, err = svc.Start(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	m = res.Pipeline.Metadata
	if m.Status != catalog.RuntimeRunning || m.LastError != nil {
		t.Fatalf("after fixing the key: %+v", res.Pipeline)
	}
	if m.PreflightWarning == nil || !strings.Contains(*m.PreflightWarning, "Snowflake could not be reached") ||
		!strings.Contains(*m.PreflightWarning, "cannot connect to 127.0.0.1:443") {
		t.Errorf("warning: %v", m.PreflightWarning)
	}
}

// TestDestinationKeySource: exactly one of path and pasted key, and switching between them.
func TestDestinationKeySource(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	base := catalog.DestinationInput{Name: "d", SnowflakeAccount: "acme-analytics", SnowflakeUser: "U",
		SnowflakeDatabase: "D", SnowflakeSchema: "S", SnowflakeRole: "R"}

	for _, tc := range []struct {
		name      string
		path, key string
		says      string
	}{
		{"neither", "", "", "is required unless"},
		{"both", "/k.p8", sftest.KeyPEM(), "not both"},
		{"not PEM", "", "ssh-rsa AAAA", "must be a PEM private key"},
	} {
		in := base
		in.SnowflakePrivateKeyPath = tc.path
		if tc.key != "" {
			in.SnowflakePrivateKey = &tc.key
		}
		_, err := svc.CreateDestination(ctx, in)
		f := fieldMessages(err)
		if !strings.Contains(f["snowflake_private_key"], tc.says) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}

	in := base
	in.SnowflakePrivateKey = ptr(sftest.KeyPEM())
	d, err := svc.CreateDestination(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !d.SnowflakePrivateKeySet || d.SnowflakePrivateKeyPath != "" {
		t.Fatalf("pasted: %+v", d)
	}
	// A path replaces the pasted key, and a pasted key replaces the path.
	d, err = svc.UpdateDestination(ctx, d.ID, catalog.DestinationPatch{SnowflakePrivateKeyPath: ptr("/etc/rosetta/k.p8")})
	if err != nil || d.SnowflakePrivateKeySet || d.SnowflakePrivateKeyPath != "/etc/rosetta/k.p8" {
		t.Fatalf("path: %+v %v", d, err)
	}
	d, err = svc.UpdateDestination(ctx, d.ID, catalog.DestinationPatch{SnowflakePrivateKey: ptr(sftest.KeyPEM())})
	if err != nil || !d.SnowflakePrivateKeySet || d.SnowflakePrivateKeyPath != "" {
		t.Fatalf("key: %+v %v", d, err)
	}
	// Removing the pasted key without a path leaves none: refused.
	_, err = svc.UpdateDestination(ctx, d.ID, catalog.DestinationPatch{SnowflakePrivateKey: ptr("")})
	if !strings.Contains(fieldMessages(err)["snowflake_private_key_path"], "is required") {
		t.Errorf("removing the only key: %v", err)
	}
}

func fieldMessages(err error) map[string]string {
	m := map[string]string{}
	if e := apperr.As(err); e != nil {
		for _, f := range e.Fields {
			m[f.Field] = f.Message
		}
	}
	return m
}
