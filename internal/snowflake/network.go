package snowflake

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type network struct {
	host string
	opt  Options
}

func (n network) addr() string { return net.JoinHostPort(n.host, strconv.Itoa(n.opt.Port)) }

func (n network) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: n.host, RootCAs: n.opt.RootCAs, MinVersion: tls.VersionTLS12}
}

func (n network) transport() *http.Transport {
	return &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: n.tlsConfig(), ForceAttemptHTTP2: true}
}

// resolve is the DNS check; reached is false when the name does not resolve.
func (n network) resolve(ctx context.Context) (Check, bool) {
	if ip := net.ParseIP(strings.Trim(n.host, "[]")); ip != nil {
		return newCheck(CheckDNS, StatusOK, fmt.Sprintf("%s is an IP address; no DNS lookup needed", n.host)), true
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, n.host)
	if err != nil {
		return newCheck(CheckDNS, StatusFail, fmt.Sprintf(
			"cannot resolve %s (%s): check the account identifier and snowflake_host, and that this server can resolve "+
				"public names (an offline control plane cannot)", n.host, netReason(err))), false
	}
	return newCheck(CheckDNS, StatusOK, fmt.Sprintf("%s resolves to %s", n.host, strings.Join(addrs, ", "))), true
}

// handshake is the TLS check. reached is false when no connection could be made; a
// certificate problem is reached-but-failed, since the host answered.
func (n network) handshake(ctx context.Context) (Check, bool) {
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: n.tlsConfig()}
	conn, err := d.DialContext(ctx, "tcp", n.addr())
	if err != nil {
		var cert *tls.CertificateVerificationError
		if errors.As(err, &cert) {
			return newCheck(CheckTLS, StatusFail, fmt.Sprintf(
				"%s answered with a certificate this server does not trust (%v): check snowflake_host, "+
					"or a proxy that intercepts TLS", n.addr(), cert.Err)), true
		}
		return newCheck(CheckTLS, StatusFail, fmt.Sprintf(
			"cannot connect to %s (%s): check that this server may reach Snowflake on port %d (firewall, proxy, network policy)",
			n.addr(), netReason(err), n.opt.Port)), false
	}
	st := conn.(*tls.Conn).ConnectionState()
	_ = conn.Close()
	return newCheck(CheckTLS, StatusOK, fmt.Sprintf("TLS to %s established (%s)", n.addr(), tls.VersionName(st.Version))), true
}

// netReason is the short cause of a network error, without the repeated address.
func netReason(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timed out"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "no such host"
		}
		return dnsErr.Err
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return opErr.Err.Error()
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// JWTLifetime is how long a sign-in token is valid; Snowflake refuses more than an hour.
const JWTLifetime = 59 * time.Minute

// SignJWT makes the key-pair token Snowflake documents: RS256, issuer
// ACCOUNT.USER.SHA256:fingerprint, subject ACCOUNT.USER, at most an hour of life.
func SignJWT(key *rsa.PrivateKey, account, user, fingerprint string, now time.Time) (string, error) {
	sub := account + "." + upper(user)
	header := `{"alg":"RS256","typ":"JWT"}`
	claims, err := json.Marshal(map[string]any{
		"iss": sub + "." + fingerprint, "sub": sub,
		"iat": now.Unix(), "exp": now.Add(JWTLifetime).Unix(),
	})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// probeSQL reads the session's context. Role, warehouse, database and schema are set
// through the request, so a NULL here means the role cannot use that object.
const probeSQL = "SELECT CURRENT_ROLE(), CURRENT_WAREHOUSE(), CURRENT_DATABASE(), CURRENT_SCHEMA()"

type statementRequest struct {
	Statement string `json:"statement"`
	Timeout   int    `json:"timeout"`
	Role      string `json:"role,omitempty"`
	Warehouse string `json:"warehouse,omitempty"`
	Database  string `json:"database,omitempty"`
	Schema    string `json:"schema,omitempty"`
}

type statementResponse struct {
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Data    [][]*string `json:"data"`
}

// signIn signs in with a key-pair JWT through the SQL API and runs probeSQL. reached is
// false when Snowflake did not answer (or answered that it is unavailable).
func (n network) signIn(ctx context.Context, cfg Config, acct Account, key *rsa.PrivateKey, fp string, client *http.Client) (Check, bool) {
	user := upper(cfg.User)
	token, err := SignJWT(key, acct.JWTName, cfg.User, fp, n.opt.Now())
	if err != nil {
		return newCheck(CheckSignIn, StatusFail, fmt.Sprintf("cannot sign the sign-in token: %v", err)), true
	}
	body, _ := json.Marshal(statementRequest{Statement: probeSQL, Timeout: 10, Role: cfg.Role, Warehouse: cfg.Warehouse,
		Database: cfg.Database, Schema: cfg.Schema})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+n.addr()+"/api/v2/statements", bytes.NewReader(body))
	if err != nil {
		return newCheck(CheckSignIn, StatusFail, fmt.Sprintf("cannot build the sign-in request: %v", err)), true
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Snowflake-Authorization-Token-Type", "KEYPAIR_JWT")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "rosetta-destination-check/1")
	resp, err := client.Do(req)
	if err != nil {
		return newCheck(CheckSignIn, StatusFail, fmt.Sprintf(
			"no answer from Snowflake's SQL API at %s (%s)", n.addr(), netReason(err))), false
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var sr statementResponse
	_ = json.Unmarshal(raw, &sr)
	why := strings.TrimSpace(sr.Message)
	if sr.Code != "" {
		why += " (code " + sr.Code + ")"
	}
	if why == "" {
		why = resp.Status
	}

	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return newCheck(CheckSignIn, StatusFail, fmt.Sprintf(
			"Snowflake rejected the key-pair sign-in of user %s: %s: set the public key on the user "+
				"(ALTER USER %s SET RSA_PUBLIC_KEY='…'), check that DESC USER %s shows RSA_PUBLIC_KEY_FP = %s, "+
				"and check the account identifier", user, why, user, user, fp)), true
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return newCheck(CheckSignIn, StatusFail, fmt.Sprintf(
			"Snowflake is not available right now (%s): try again later", why)), false
	case resp.StatusCode == http.StatusAccepted:
		return newCheck(CheckSignIn, StatusWarn, fmt.Sprintf(
			"signed in as %s, but the check statement did not finish in time; if the warehouse is suspended it may be resuming", user)), true
	case resp.StatusCode != http.StatusOK:
		return newCheck(CheckSignIn, StatusFail, fmt.Sprintf(
			"signed in as %s, but Snowflake refused the session's context: %s: grant role %s to user %s and let it use "+
				"database %s, schema %s and the warehouse", user, why, cfg.Role, user, cfg.Database, cfg.Schema)), true
	}
	if len(sr.Data) != 1 || len(sr.Data[0]) != 4 {
		return newCheck(CheckSignIn, StatusFail, "signed in, but Snowflake's answer to the check statement was not understood"), true
	}
	row := sr.Data[0]
	role, wh, db, schema := deref(row[0]), deref(row[1]), deref(row[2]), deref(row[3])
	switch {
	case db == "":
		return newCheck(CheckSignIn, StatusFail, fmt.Sprintf(
			"signed in as %s with role %s, but that role cannot use database %s (or it does not exist): GRANT USAGE ON DATABASE %s TO ROLE %s",
			user, role, cfg.Database, cfg.Database, role)), true
	case schema == "":
		return newCheck(CheckSignIn, StatusFail, fmt.Sprintf(
			"signed in as %s with role %s, but that role cannot use schema %s.%s (or it does not exist): GRANT USAGE ON SCHEMA %s.%s TO ROLE %s",
			user, role, cfg.Database, cfg.Schema, cfg.Database, cfg.Schema, role)), true
	case wh == "":
		return newCheck(CheckSignIn, StatusWarn, fmt.Sprintf(
			"signed in as %s with role %s; database %s and schema %s are usable, but no warehouse is in use: "+
				"set the destination's warehouse (and GRANT USAGE ON WAREHOUSE … TO ROLE %s)", user, role, db, schema, role)), true
	}
	return newCheck(CheckSignIn, StatusOK, fmt.Sprintf(
		"signed in as %s with role %s and warehouse %s; database %s and schema %s are usable by that role", user, role, wh, db, schema)), true
}

func upper(s string) string { return strings.ToUpper(s) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
