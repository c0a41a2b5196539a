package auth_test

import (
	"context"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/audit"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/internal/db"
	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var cheap = auth.WithPasswordParams(auth.PasswordParams{Memory: 64, Time: 1, Threads: 1})

func newService(t *testing.T, opts ...auth.Option) (*auth.Service, *db.Pool) {
	t.Helper()
	d := testdb.New(t)
	pool := db.Wrap(d.Pool, 5*time.Second)
	return auth.New(pool, audit.ForAuth(), append([]auth.Option{cheap}, opts...)...), pool
}

func cli() context.Context { return auth.WithPrincipal(context.Background(), auth.CommandLine()) }

func TestPasswordHashing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, err := auth.HashPassword(ctx, "correct horse battery", auth.DefaultPasswordParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "correct") {
		t.Fatalf("hash %q", h)
	}
	h2, _ := auth.HashPassword(ctx, "correct horse battery", auth.DefaultPasswordParams)
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		if ok, err := auth.VerifyPassword(ctx, pw, h); err != nil || ok != want {
			t.Errorf("verify %q = %v, %v", pw, ok, err)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$x$y", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA"} {
		if _, err := auth.VerifyPassword(ctx, "x", bad); err == nil {
			t.Errorf("accepted hash %q", bad)
		}
	}
}

func TestRolesAndLifetimes(t *testing.T) {
	t.Parallel()
	if !auth.Admin.AtLeast(auth.Operator) || !auth.Operator.AtLeast(auth.Viewer) || auth.Viewer.AtLeast(auth.Operator) ||
		auth.Role("root").AtLeast(auth.Viewer) {
		t.Error("role order")
	}
	if r, ok := auth.ParseRole(" Operator "); !ok || r != auth.Operator {
		t.Errorf("ParseRole: %q %v", r, ok)
	}
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "12h": 12 * time.Hour, "never": 0, "": 0} {
		if got, err := auth.ParseLifetime(in); err != nil || got != want {
			t.Errorf("ParseLifetime(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"-1d", "soon", "0d", "10000d"} {
		if _, err := auth.ParseLifetime(bad); err == nil {
			t.Errorf("ParseLifetime(%q) accepted", bad)
		}
	}
	if auth.LooksLikeToken("rst_short") || auth.LooksLikeToken("") || !auth.LooksLikeToken("rst_"+strings.Repeat("A", 43)) {
		t.Error("LooksLikeToken")
	}
}

func TestServiceRefusesWithoutTheRole(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	in := auth.UserInput{Email: "a@example.com", Role: "viewer", Password: "long-enough-password"}
	if _, err := s.CreateUser(context.Background(), in); apperr.CodeOf(err) != apperr.Unauthorized {
		t.Errorf("no principal: %v", err)
	}
	op := auth.WithPrincipal(context.Background(), auth.Principal{UserID: 7, Email: "op@example.com", Role: auth.Operator})
	if _, err := s.CreateUser(op, in); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("operator: %v", err)
	}
	if _, err := s.ListUsers(op); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("operator lists users: %v", err)
	}
	u, err := s.CreateUser(cli(), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(op, auth.TokenInput{UserID: u.ID, Name: "x"}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("operator creates a token for someone else: %v", err)
	}
	if _, err := s.CreateUser(cli(), auth.UserInput{Email: "A@Example.com", Role: "viewer", Password: "long-enough-password"}); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("duplicate email (case-insensitive): %v", err)
	}
}

// TestFirstAdminIsCreatedOnceAcrossInstances: instances starting together on an empty
// database create exactly one admin between them, and none once users exist.
func TestFirstAdminIsCreatedOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	_, pool := newService(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := auth.New(pool, audit.ForAuth(), cheap) // one service per "instance"
			email, pw, ok, err := s.EnsureFirstAdmin(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				created++
				mu.Unlock()
				if email != auth.FirstAdminEmail || len(pw) < auth.MinPasswordLen {
					t.Errorf("first admin %q with a %d-character password", email, len(pw))
				}
				p, err := s.Login(auth.WithRemoteAddr(context.Background(), "127.0.0.1"), email, pw)
				if err != nil || p.Role != auth.Admin {
					t.Errorf("cannot sign in as the first admin: %+v %v", p, err)
				}
			}
		}()
	}
	wg.Wait()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 1 || created != 1 {
		t.Fatalf("users %d, created %d (%v)", n, created, err)
	}
	if _, _, ok, err := auth.New(pool, audit.ForAuth(), cheap).EnsureFirstAdmin(context.Background()); ok || err != nil {
		t.Errorf("second run created another admin: %v %v", ok, err)
	}
}

// TestParallelGuessesNeverExceedTheLimit: the attempt is counted before the password is
// checked, so a burst of parallel guesses gets no more tries than the limit.
func TestParallelGuessesNeverExceedTheLimit(t *testing.T) {
	t.Parallel()
	s, pool := newService(t, auth.WithLoginLimits(auth.LoginLimits{PerAccount: 3, PerAddress: 1000, Window: time.Minute}))
	if _, err := s.CreateUser(cli(), auth.UserInput{Email: "x@example.com", Role: "viewer", Password: "long-enough-password"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	codes := make(chan apperr.Code, 30)
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Login(auth.WithRemoteAddr(context.Background(), "10.0.0.1"), "x@example.com", "wrong-password")
			codes <- apperr.CodeOf(err)
		}()
	}
	wg.Wait()
	close(codes)
	guesses := 0
	for c := range codes {
		switch c {
		case apperr.Unauthorized:
			guesses++
		case apperr.RateLimited:
		default:
			t.Errorf("unexpected %s", c)
		}
	}
	// Parallel attempts may all see each other and all be refused; what must never
	// happen is more checks than the limit.
	if guesses > 3 {
		t.Errorf("%d guesses were checked, limit 3", guesses)
	}
	// refused attempts are not counted as failures (they would extend the lockout)
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM login_failures`).Scan(&n); err != nil || n != guesses {
		t.Errorf("failures recorded %d, guesses checked %d (%v)", n, guesses, err)
	}
}

// TestUpdateUserIsAllOrNothing: a patch with one bad field changes nothing; the last
// active admin cannot be demoted or disabled by any combination; a valid patch applies
// every field in one audited change.
func TestUpdateUserIsAllOrNothing(t *testing.T) {
	t.Parallel()
	s, pool := newService(t)
	ctx := cli()
	admin, err := s.CreateUser(ctx, auth.UserInput{Email: "root@example.com", Role: "admin", Password: "long-enough-password"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, auth.UserInput{Email: "ops@example.com", Role: "viewer", Password: "long-enough-password"})
	if err != nil {
		t.Fatal(err)
	}
	ptr := func(v string) *string { return &v }
	yes := true

	// a good role beside a short password: 422 naming the password, and the role unchanged
	_, err = s.UpdateUser(ctx, u.ID, auth.UserPatch{Role: ptr("operator"), Password: ptr("short")})
	ae := apperr.As(err)
	if ae == nil || ae.Code != apperr.Invalid || len(ae.Fields) != 1 || ae.Fields[0].Field != "password" {
		t.Fatalf("bad password in a patch: %v", err)
	}
	if got, _ := s.GetUser(ctx, u.ID); got.Role != auth.Viewer {
		t.Fatalf("a refused patch changed the role to %s", got.Role)
	}

	// the only admin: not demoted, not disabled, not both
	for _, p := range []auth.UserPatch{{Role: ptr("viewer")}, {Disabled: &yes}, {Role: ptr("admin"), Disabled: &yes}} {
		if _, err := s.UpdateUser(ctx, admin.ID, p); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("last admin %+v: err = %v, want conflict", p, err)
		}
	}

	// a valid patch: all fields at once, one audit row listing them, the password replaced
	got, err := s.UpdateUser(ctx, u.ID, auth.UserPatch{Role: ptr("admin"), Password: ptr("another-long-password")})
	if err != nil || got.Role != auth.Admin {
		t.Fatalf("valid patch: %+v %v", got, err)
	}
	if _, err := s.Login(context.Background(), "ops@example.com", "another-long-password"); err != nil {
		t.Errorf("the new password does not sign in: %v", err)
	}
	var changes string
	if err := pool.QueryRow(context.Background(), `SELECT changes::text FROM audit_events
		WHERE entity_kind = 'user' AND entity_id = $1 AND action = 'update' ORDER BY id DESC LIMIT 1`, u.ID).Scan(&changes); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(changes, `"role"`) || !strings.Contains(changes, `"password": "(changed)"`) || strings.Contains(changes, "another-long") {
		t.Errorf("audit changes %s", changes)
	}
	// now that there are two admins, the first may step down
	if _, err := s.UpdateUser(ctx, admin.ID, auth.UserPatch{Role: ptr("operator")}); err != nil {
		t.Errorf("demote one of two admins: %v", err)
	}
}

// LooksLikeToken checks the alphabet instead of decoding: it must agree with decoding
// for every string of the right length, whatever its characters.
func TestLooksLikeTokenIsDecodability(t *testing.T) {
	t.Parallel()
	const chars = "ABCXYZabcxyz0189-_+/=. \x00\xff"
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 20000 {
		b := make([]byte, 43)
		for j := range b {
			if i%3 == 0 {
				b[j] = chars[rng.IntN(len(chars))]
			} else {
				b[j] = chars[rng.IntN(18)] // URL-safe alphabet only
			}
		}
		_, err := base64.RawURLEncoding.DecodeString(string(b))
		if got := auth.LooksLikeToken(auth.TokenPrefix + string(b)); got != (err == nil) {
			t.Fatalf("LooksLikeToken(%q) = %v, decoding: %v", b, got, err)
		}
	}
}
