package rekey_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/secrets"
	"github.com/rosetta-cdc/rosetta/internal/secrets/rekey"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const (
	oldKey   = "old-secret-key-0123456789"
	newKey   = "new-secret-key-9876543210"
	otherKey = "some-other-key-5555555555"
)

func box(t *testing.T, secret string, olds ...string) *secrets.Box {
	t.Helper()
	b, err := secrets.NewBox(secret, olds...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRotateKeyRoundTrip seals real rows under the old key, rotates in small batches,
// and checks every credential opens with the new key alone and still says the same.
func TestRotateKeyRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := db.Wrap(testdb.New(t).Pool, 5*time.Second)
	old := catalog.New(pool, box(t, oldKey), audit.ForCatalog())
	want := map[string]string{} // "source:<id>" / "destination:<id>" → plaintext
	for i := range 7 {
		pw := fmt.Sprintf("pg-password-%d", i)
		s, err := old.CreateSource(ctx, catalog.SourceInput{Name: fmt.Sprintf("s%d", i), PgHost: "db.internal", PgDatabase: "d",
			PgUsername: "u", PgPassword: pw, PublicationName: "pub", ReplicationID: "slot"})
		if err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf("source:%d", s.ID)] = pw
	}
	for i := range 5 {
		in := catalog.DestinationInput{Name: fmt.Sprintf("d%d", i), SnowflakeAccount: "acme", SnowflakeUser: "U",
			SnowflakeDatabase: "D", SnowflakeSchema: "S", SnowflakeRole: "R", SnowflakePrivateKeyPath: "/k.p8"}
		pp := fmt.Sprintf("passphrase-%d", i)
		if i < 4 {
			in.SnowflakePrivateKeyPassphrase = &pp
		}
		d, err := old.CreateDestination(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if i < 4 {
			want[fmt.Sprintf("destination:%d", d.ID)] = pp
		}
	}
	// pasted private keys are sealed too
	for i := range 2 {
		pem := fmt.Sprintf("-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n",
			base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "not a real key %d", i)))
		d, err := old.CreateDestination(ctx, catalog.DestinationInput{Name: fmt.Sprintf("k%d", i), SnowflakeAccount: "acme",
			SnowflakeUser: "U", SnowflakeDatabase: "D", SnowflakeSchema: "S", SnowflakeRole: "R", SnowflakePrivateKey: &pem})
		if err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf("key:%d", d.ID)] = pem
	}
	// one row already under the new key (a rotation that was interrupted)
	already, err := catalog.New(pool, box(t, newKey), audit.ForCatalog()).CreateSource(ctx, catalog.SourceInput{Name: "already", PgHost: "db.internal",
		PgDatabase: "d", PgUsername: "u", PgPassword: "already-new", PublicationName: "pub", ReplicationID: "slot"})
	if err != nil {
		t.Fatal(err)
	}
	want[fmt.Sprintf("source:%d", already.ID)] = "already-new"

	rotating := box(t, newKey, oldKey)
	res, err := rekey.Run(ctx, pool, rotating, 3)
	if err != nil {
		t.Fatal(err)
	}
	if res.SourcePasswords != (rekey.Counts{Resealed: 7, Current: 1}) || res.DestinationPassphrases != (rekey.Counts{Resealed: 4}) ||
		res.DestinationKeys != (rekey.Counts{Resealed: 2}) || !res.Complete() {
		t.Fatalf("result %+v", res)
	}
	// every credential opens with the new key alone, unchanged
	only := box(t, newKey)
	got := map[string]string{}
	rows, err := pool.Query(ctx, `SELECT 'source:' || id, pg_password FROM sources
		UNION ALL SELECT 'destination:' || id, snowflake_private_key_passphrase FROM destinations WHERE snowflake_private_key_passphrase IS NOT NULL
		UNION ALL SELECT 'key:' || id, snowflake_private_key FROM destinations WHERE snowflake_private_key IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		var sealed []byte
		if err := rows.Scan(&k, &sealed); err != nil {
			t.Fatal(err)
		}
		if !only.IsPrimary(sealed) {
			t.Errorf("%s is not under the new key", k)
		}
		if got[k], err = only.Open(sealed); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	rows.Close()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after rotation:\n got %v\nwant %v", got, want)
	}
	// the catalog keeps working with the new key only (a test connection opens it)
	if _, err := catalog.New(pool, only, audit.ForCatalog()).GetSource(ctx, already.ID); err != nil {
		t.Fatal(err)
	}
	// running again changes nothing
	res, err = rekey.Run(ctx, pool, rotating, 3)
	if err != nil || res.SourcePasswords != (rekey.Counts{Current: 8}) || res.DestinationPassphrases != (rekey.Counts{Current: 4}) ||
		res.DestinationKeys != (rekey.Counts{Current: 2}) {
		t.Fatalf("second run: %+v %v", res, err)
	}
}

// TestRotateKeyLeavesUnreadableRowsAlone: a value sealed under a key the rotation does
// not hold is reported and left as it was, never overwritten.
func TestRotateKeyLeavesUnreadableRowsAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := db.Wrap(testdb.New(t).Pool, 5*time.Second)
	s, err := catalog.New(pool, box(t, otherKey), audit.ForCatalog()).CreateSource(ctx, catalog.SourceInput{Name: "x", PgHost: "h", PgDatabase: "d",
		PgUsername: "u", PgPassword: "stranded", PublicationName: "pub", ReplicationID: "slot"})
	if err != nil {
		t.Fatal(err)
	}
	var before []byte
	_ = pool.QueryRow(ctx, `SELECT pg_password FROM sources WHERE id = $1`, s.ID).Scan(&before)
	res, err := rekey.Run(ctx, pool, box(t, newKey, oldKey), 0)
	if err != nil || res.Complete() || res.SourcePasswords.Unreadable != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	var after []byte
	_ = pool.QueryRow(ctx, `SELECT pg_password FROM sources WHERE id = $1`, s.ID).Scan(&after)
	if string(before) != string(after) {
		t.Error("an unreadable value was overwritten")
	}
	if pt, err := box(t, otherKey).Open(after); err != nil || pt != "stranded" {
		t.Errorf("the value is lost: %q %v", pt, err)
	}
}
