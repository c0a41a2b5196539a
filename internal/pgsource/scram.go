package pgsource

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"slices"
	"strconv"
	"sync"
)

// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it, with the -PLUS variant
// (tls-server-end-point channel binding, RFC 5929) whenever TLS is up and the server offers
// it. It exists, rather than pgx's own, for one reason: pgx derives SaltedPassword =
// PBKDF2(password, salt, 4096) on every connection, ~1.1 ms of CPU, and offers no way to
// keep it. A source's salt and iteration count only change with its password, so the WAL
// monitor keeps the keys derived from it between cycles (SCRAMCache) and each probe's
// handshake costs a few HMACs instead.

const (
	scramSHA256     = "SCRAM-SHA-256"
	scramSHA256Plus = "SCRAM-SHA-256-PLUS"
	// maxSCRAMIterations bounds what a server (or someone posing as it under TLS prefer)
	// can make the client spend in PBKDF2; PostgreSQL's default is 4096. pgx uses the same
	// ceiling.
	maxSCRAMIterations = 10_000_000
)

// errServerSignature: the server's final SCRAM message did not prove that it holds the
// password's verifier — it is not the server the password was set on, or someone on the path.
var errServerSignature = errors.New("SCRAM server signature does not match")

// scramKeys are what SaltedPassword is needed for, derived once per salt and iteration
// count. Whoever holds ClientKey can log in as the role on that server, so they live only
// in memory, in the cache entry of the source they were derived for.
type scramKeys struct {
	salt       []byte
	iterations int
	clientKey  []byte // HMAC(SaltedPassword, "Client Key")
	storedKey  []byte // H(ClientKey)
	serverKey  []byte // HMAC(SaltedPassword, "Server Key")
}

func deriveSCRAMKeys(password string, salt []byte, iterations int) (*scramKeys, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return nil, err
	}
	ck := hmacSHA256(salted, []byte("Client Key"))
	sk := sha256.Sum256(ck)
	return &scramKeys{salt: bytes.Clone(salt), iterations: iterations,
		clientKey: ck, storedKey: sk[:], serverKey: hmacSHA256(salted, []byte("Server Key"))}, nil
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// SCRAMCache keeps, per source, the SCRAM keys derived from its password for the salt and
// iteration count its server last sent. An entry is used only while the source's
// connection settings (Conn.Key: endpoint, user, password, TLS) and the server's salt and
// iteration count are all unchanged; anything else derives afresh and replaces it, so a
// password changed in Rosetta or on the server (ALTER ROLE … PASSWORD picks a new salt)
// never meets a stale key. An entry is dropped when a login with it fails or the server's
// signature does not match, and Retain drops those of sources no longer probed. Nothing in
// it is persisted or printed.
type SCRAMCache struct {
	mu sync.Mutex
	m  map[int64]scramEntry
}

type scramEntry struct {
	connKey string
	keys    *scramKeys
}

// NewSCRAMCache returns an empty cache.
func NewSCRAMCache() *SCRAMCache { return &SCRAMCache{m: map[int64]scramEntry{}} }

// Retain drops the entries of sources not in keep.
func (sc *SCRAMCache) Retain(keep map[int64]bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for id := range sc.m {
		if !keep[id] {
			delete(sc.m, id)
		}
	}
}

// Len is the number of sources with keys cached.
func (sc *SCRAMCache) Len() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return len(sc.m)
}

// String and LogValue say how many entries there are, never what they hold.
func (sc *SCRAMCache) String() string { return fmt.Sprintf("SCRAMCache(%d sources)", sc.Len()) }

// LogValue keeps slog from printing the keys.
func (sc *SCRAMCache) LogValue() slog.Value { return slog.StringValue(sc.String()) }

// keySlot is one source's place in a cache, for one connection attempt.
type keySlot struct {
	cache   *SCRAMCache
	id      int64
	connKey string
}

func (s *keySlot) get(salt []byte, iterations int) *scramKeys {
	if s == nil {
		return nil
	}
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	e, ok := s.cache.m[s.id]
	if !ok || e.connKey != s.connKey || e.keys.iterations != iterations || !bytes.Equal(e.keys.salt, salt) {
		return nil
	}
	return e.keys
}

func (s *keySlot) put(k *scramKeys) {
	if s == nil {
		return
	}
	s.cache.mu.Lock()
	s.cache.m[s.id] = scramEntry{connKey: s.connKey, keys: k}
	s.cache.mu.Unlock()
}

// drop forgets the source's keys after a failed login, whichever keys it used: the next
// attempt derives them again from what the server sends then.
func (s *keySlot) drop() {
	if s == nil {
		return
	}
	s.cache.mu.Lock()
	delete(s.cache.m, s.id)
	s.cache.mu.Unlock()
}

// scramExchange is one client side of a SCRAM-SHA-256(-PLUS) exchange.
type scramExchange struct {
	password  string
	slot      *keySlot
	mechanism string
	gs2Header string
	cbData    []byte // tls-server-end-point hash, -PLUS only
	nonce     string
	first     string // client-first-message-bare
	auth      []byte // AuthMessage
	keys      *scramKeys
	derived   bool // keys computed for this exchange rather than taken from the cache
	ok        bool // the server's signature was verified
}

// newSCRAMExchange picks the mechanism as libpq's channel_binding=prefer does: -PLUS when
// the connection is TLS, the server offers it and the certificate's hash can be taken;
// otherwise plain SCRAM-SHA-256, telling the server whether the client could have bound
// the channel ("y") or not ("n"), so a server that offers -PLUS detects a downgrade.
func newSCRAMExchange(mechanisms []string, tc *tls.Conn, password string, slot *keySlot) (*scramExchange, error) {
	if !slices.Contains(mechanisms, scramSHA256) {
		return nil, errors.New("the server offers no SASL mechanism Rosetta supports (SCRAM-SHA-256)")
	}
	x := &scramExchange{password: password, slot: slot, mechanism: scramSHA256, gs2Header: "n,,"}
	if tc != nil {
		x.gs2Header = "y,,"
		if slices.Contains(mechanisms, scramSHA256Plus) {
			if h, err := serverEndPoint(tc); err == nil {
				x.mechanism, x.gs2Header, x.cbData = scramSHA256Plus, "p=tls-server-end-point,,", h
			}
		}
	}
	var raw [18]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	x.nonce = base64.RawStdEncoding.EncodeToString(raw[:])
	// The user name goes in the startup message; PostgreSQL ignores the one here.
	x.first = "n=,r=" + x.nonce
	return x, nil
}

func (x *scramExchange) clientFirst() []byte { return []byte(x.gs2Header + x.first) }

// clientFinal checks the server-first-message and answers it with the proof.
func (x *scramExchange) clientFinal(serverFirst []byte) ([]byte, error) {
	nonce, salt, iterations, err := parseServerFirst(serverFirst)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(nonce, []byte(x.nonce)) || len(nonce) == len(x.nonce) {
		return nil, errors.New("invalid SCRAM server-first-message: the nonce does not extend the client's")
	}
	if x.keys = x.slot.get(salt, iterations); x.keys == nil {
		if x.keys, err = deriveSCRAMKeys(x.password, salt, iterations); err != nil {
			return nil, err
		}
		x.derived = true
	}
	cb := base64.StdEncoding.EncodeToString(append([]byte(x.gs2Header), x.cbData...))
	withoutProof := "c=" + cb + ",r=" + string(nonce)
	x.auth = []byte(x.first + "," + string(serverFirst) + "," + withoutProof)
	sig := hmacSHA256(x.keys.storedKey, x.auth)
	proof := make([]byte, len(sig))
	for i := range sig {
		proof[i] = x.keys.clientKey[i] ^ sig[i]
	}
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verifyServerFinal checks the server's signature: only a server holding the password's
// verifier can compute it. Keys that passed are kept for the next connection; keys that
// did not are forgotten.
func (x *scramExchange) verifyServerFinal(serverFinal []byte) error {
	v, ok := bytes.CutPrefix(serverFinal, []byte("v="))
	if !ok {
		x.failed()
		return errors.New("invalid SCRAM server-final-message")
	}
	if i := bytes.IndexByte(v, ','); i >= 0 {
		v = v[:i] // extensions, which PostgreSQL does not send
	}
	got, err := base64.StdEncoding.DecodeString(string(v))
	if err != nil || !hmac.Equal(got, hmacSHA256(x.keys.serverKey, x.auth)) {
		x.failed()
		return errServerSignature
	}
	if x.derived {
		x.slot.put(x.keys)
	}
	return nil
}

// failed forgets the source's keys when the login did not succeed.
func (x *scramExchange) failed() { x.slot.drop() }

// parseServerFirst reads "r=<nonce>,s=<salt>,i=<iterations>" (RFC 5802 §7).
func parseServerFirst(msg []byte) (nonce, salt []byte, iterations int, err error) {
	parts := bytes.Split(msg, []byte(","))
	if len(parts) < 3 || !bytes.HasPrefix(parts[0], []byte("r=")) || !bytes.HasPrefix(parts[1], []byte("s=")) ||
		!bytes.HasPrefix(parts[2], []byte("i=")) {
		return nil, nil, 0, errors.New("invalid SCRAM server-first-message")
	}
	nonce = parts[0][2:]
	if salt, err = base64.StdEncoding.DecodeString(string(parts[1][2:])); err != nil || len(salt) == 0 {
		return nil, nil, 0, errors.New("invalid SCRAM server-first-message: the salt is not base64")
	}
	iterations, err = strconv.Atoi(string(parts[2][2:]))
	if err != nil || iterations < 1 || iterations > maxSCRAMIterations {
		return nil, nil, 0, fmt.Errorf("invalid SCRAM server-first-message: iteration count must be 1 to %d", maxSCRAMIterations)
	}
	return nonce, salt, iterations, nil
}

// serverEndPoint is the tls-server-end-point channel binding data (RFC 5929 §4.1): the
// server certificate's hash with its signature's hash function, SHA-256 for MD5 and SHA-1.
func serverEndPoint(tc *tls.Conn) ([]byte, error) {
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, errors.New("no server certificate")
	}
	var h hash.Hash
	switch certs[0].SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.ECDSAWithSHA1,
		x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.ECDSAWithSHA256:
		h = sha256.New()
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		h = sha512.New384()
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		h = sha512.New()
	default:
		return nil, fmt.Errorf("no tls-server-end-point hash for %v", certs[0].SignatureAlgorithm)
	}
	h.Write(certs[0].Raw)
	return h.Sum(nil), nil
}
