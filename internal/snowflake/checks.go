package snowflake

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/pgsource"
)

// Check is the source checks' type, so a destination's test answers in the same shape
// (and the console renders both with one component). pgsource has no dependency on
// anything here, so sharing it creates no cycle.
type Check = pgsource.Check

// Status is ok, warn or fail, as for sources.
type Status = pgsource.Status

const (
	StatusOK   = pgsource.StatusOK
	StatusWarn = pgsource.StatusWarn
	StatusFail = pgsource.StatusFail
)

// Check names, in the order RunChecks returns them. The first five work offline.
const (
	CheckAccount       = "account"
	CheckPrivateKey    = "private_key"
	CheckKeyFormat     = "key_format"
	CheckKeyPassphrase = "key_passphrase"
	CheckKeyStrength   = "key_strength"
	CheckDNS           = "dns"
	CheckTLS           = "tls"
	CheckSignIn        = "sign_in"
)

// IsNetworkCheck reports whether a check needs Snowflake to be reachable.
func IsNetworkCheck(name string) bool {
	return name == CheckDNS || name == CheckTLS || name == CheckSignIn
}

// Config is one destination, with its secrets opened (in memory, for this check only).
type Config struct {
	Account   string
	Host      string // "" = the account's default host
	User      string
	Role      string
	Database  string
	Schema    string
	Warehouse string // "" = the user's default
	// Exactly one of PrivateKeyPath and PrivateKeyPEM.
	PrivateKeyPath string
	PrivateKeyPEM  []byte
	Passphrase     []byte
}

// Options are the network knobs; the zero value is production's.
type Options struct {
	Port    int            // 0 = 443
	RootCAs *x509.CertPool // nil = the system's roots
	// Timeout bounds all network checks together; 0 = DefaultTimeout.
	Timeout time.Duration
	Now     func() time.Time
}

// DefaultTimeout bounds DNS, TLS and the sign-in together, so an unreachable Snowflake
// delays a start by at most this long.
const DefaultTimeout = 10 * time.Second

// Report is the outcome of RunChecks.
type Report struct {
	Checks []Check
	// Fingerprint of the key's public half, when the key could be read.
	Fingerprint string
	// Unreachable is set when the network checks failed because Snowflake could not be
	// reached at all (no DNS answer, no route, refused, timeout, a 5xx), which says
	// nothing about whether the destination is set up right.
	Unreachable bool
}

// RunChecks checks a destination: the local checks first (they work offline), then
// DNS, TLS and a key-pair sign-in within the options' deadline. It changes nothing in
// Snowflake: the one statement only reads the session's context.
func RunChecks(ctx context.Context, cfg Config, opt Options) Report {
	var r Report
	acct, err := ParseAccount(cfg.Account)
	host := cfg.Host
	if host == "" {
		host = acct.Host
	}
	if err != nil {
		r.Checks = append(r.Checks, newCheck(CheckAccount, StatusFail, err.Error()))
	} else {
		form := "organization-account form"
		if acct.Legacy {
			form = "a legacy account locator"
		}
		r.Checks = append(r.Checks, newCheck(CheckAccount, StatusOK, fmt.Sprintf(
			"account %s is %s; signing in as %s.%s at %s", cfg.Account, form, acct.JWTName, upper(cfg.User), host)))
	}

	var key *rsa.PrivateKey
	data, src, ok := keySource(cfg)
	r.Checks = append(r.Checks, src)
	if ok {
		var kc []Check
		kc, key, r.Fingerprint = parseKey(data, cfg.Passphrase, upper(cfg.User))
		r.Checks = append(r.Checks, kc...)
	} else {
		r.Checks = append(r.Checks, skipped(CheckKeyFormat), skipped(CheckKeyPassphrase), skipped(CheckKeyStrength))
	}
	if err != nil {
		// Without an account there is no host to reach.
		return r.notReached("not checked: fix the account identifier first")
	}

	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.Port == 0 {
		opt.Port = 443
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	nctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	n := network{host: host, opt: opt}
	c, reached := n.resolve(nctx)
	r.Checks = append(r.Checks, c)
	if !reached {
		r.Unreachable = true
		return r.notReached("not checked: Snowflake could not be reached")
	}
	c, reached = n.handshake(nctx)
	r.Checks = append(r.Checks, c)
	if !reached {
		r.Unreachable = true
		r.Checks = append(r.Checks, newCheck(CheckSignIn, StatusFail, "not checked: Snowflake could not be reached"))
		return r
	}
	if c.Status == StatusFail {
		r.Checks = append(r.Checks, skipped(CheckSignIn))
		return r
	}
	if key == nil {
		r.Checks = append(r.Checks, newCheck(CheckSignIn, StatusFail, "not attempted: the private key is not usable (see above)"))
		return r
	}
	c, reached = n.signIn(nctx, cfg, acct, key, r.Fingerprint, &http.Client{Transport: n.transport()})
	r.Checks = append(r.Checks, c)
	r.Unreachable = !reached
	return r
}

// notReached fills in the network checks that were not run.
func (r Report) notReached(why string) Report {
	have := map[string]bool{}
	for _, c := range r.Checks {
		have[c.Name] = true
	}
	for _, name := range []string{CheckDNS, CheckTLS, CheckSignIn} {
		if !have[name] {
			r.Checks = append(r.Checks, newCheck(name, StatusFail, why))
		}
	}
	return r
}

// Worst is the report's overall status: fail if any check failed, else warn if any
// warned, else ok.
func Worst(checks []Check) Status {
	s := StatusOK
	for _, c := range checks {
		switch c.Status {
		case StatusFail:
			return StatusFail
		case StatusWarn:
			s = StatusWarn
		}
	}
	return s
}

// newCheck builds a Check; a function, since keyed literals of the shared type would
// triple every line.
func newCheck(name string, status Status, message string) Check {
	return Check{Name: name, Status: status, Message: message}
}
