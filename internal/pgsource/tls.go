package pgsource

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// TLSMode is how a connection to a source is protected, with libpq's sslmode meanings.
type TLSMode string

const (
	// TLSDisable never uses TLS.
	TLSDisable TLSMode = "disable"
	// TLSPrefer uses TLS when the server offers it, without verifying the certificate,
	// and plain text when it does not: libpq's default, and how Rosetta connected before
	// sources had a mode.
	TLSPrefer TLSMode = "prefer"
	// TLSRequire always uses TLS, without verifying the certificate.
	TLSRequire TLSMode = "require"
	// TLSVerifyCA always uses TLS and checks the certificate chains to a trusted CA.
	TLSVerifyCA TLSMode = "verify-ca"
	// TLSVerifyFull also checks the certificate names the host connected to: the only mode
	// that stops someone on the network path from posing as the server.
	TLSVerifyFull TLSMode = "verify-full"
)

// TLSModes are the accepted modes, weakest first; forms and API schemas list them from here.
var TLSModes = []TLSMode{TLSDisable, TLSPrefer, TLSRequire, TLSVerifyCA, TLSVerifyFull}

// ValidTLSMode reports whether s names a mode.
func ValidTLSMode(s string) bool {
	for _, m := range TLSModes {
		if string(m) == s {
			return true
		}
	}
	return false
}

// Verifies reports whether the mode checks the server's certificate, the only modes a
// pasted CA certificate means anything to.
func (m TLSMode) Verifies() bool { return m == TLSVerifyCA || m == TLSVerifyFull }

func tlsModeList() string {
	names := make([]string, len(TLSModes))
	for i, m := range TLSModes {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// maxCACertBytes bounds a pasted CA bundle; the largest public bundles are about 250 KB.
const maxCACertBytes = 512 << 10

// ParseCACert parses pasted PEM text into a pool. It accepts one or more CERTIFICATE
// blocks and nothing else, so a pasted private key or a truncated copy is refused rather
// than silently ignored. Error texts name the problem, never the input.
func ParseCACert(text string) (*x509.CertPool, error) {
	if len(text) > maxCACertBytes {
		return nil, fmt.Errorf("must be at most %d KB", maxCACertBytes>>10)
	}
	pool := x509.NewCertPool()
	rest := []byte(text)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("must contain only CERTIFICATE blocks, not %q", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d cannot be parsed: it is not a valid X.509 certificate", n+1)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, errors.New("must be PEM text: -----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("has text after the last certificate that is not a PEM block (a truncated copy?)")
	}
	return pool, nil
}

// tlsConfig is the TLS client configuration for c's mode; nil for disable.
func tlsConfig(c Conn) (*tls.Config, error) {
	mode := c.mode()
	if mode == TLSDisable {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if net.ParseIP(c.Host) == nil {
		cfg.ServerName = c.Host // SNI; and the name verify-full checks
	}
	if !mode.Verifies() {
		// prefer and require: encrypted, but anyone on the path can present a certificate.
		cfg.InsecureSkipVerify = true
		return cfg, nil
	}
	var roots *x509.CertPool
	if strings.TrimSpace(c.CACert) != "" {
		pool, err := ParseCACert(c.CACert)
		if err != nil {
			return nil, &ConnectError{Reason: ReasonInvalid, Message: "the CA certificate " + err.Error()}
		}
		roots = pool
	} else {
		pool, err := x509.SystemCertPool()
		if err != nil {
			return nil, &ConnectError{Reason: ReasonInvalid,
				Message: "no CA certificate is pasted and the system's trusted roots cannot be read: paste the CA certificate"}
		}
		roots = pool
	}
	if mode == TLSVerifyFull {
		cfg.RootCAs = roots
		cfg.ServerName = c.Host // an IP address is checked against the certificate's IP SANs
		return cfg, nil
	}
	// verify-ca: the chain must lead to a trusted CA, whatever name the certificate has.
	// crypto/tls cannot verify a chain without a name, so it is done here.
	cfg.InsecureSkipVerify = true
	cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("the server presented no certificate")
		}
		certs := make([]*x509.Certificate, len(raw))
		for i, b := range raw {
			cert, err := x509.ParseCertificate(b)
			if err != nil {
				return err
			}
			certs[i] = cert
		}
		inter := x509.NewCertPool()
		for _, ic := range certs[1:] {
			inter.AddCert(ic)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
		return err
	}
	return cfg, nil
}

// sslRequest is the protocol's SSLRequest message: length 8, code 80877103.
var sslRequest = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), 80877103)

// askForTLS sends SSLRequest and reads the server's one-byte answer: 'S' or 'N'.
func askForTLS(nc net.Conn) (byte, error) {
	if _, err := nc.Write(sslRequest); err != nil {
		return 0, err
	}
	// Exactly one byte: anything a server (or someone on the path) sent after an 'S' must
	// reach the TLS handshake, which rejects it, rather than be taken as protocol.
	var b [1]byte
	if _, err := io.ReadFull(nc, b[:]); err != nil {
		return 0, err
	}
	if b[0] != 'S' && b[0] != 'N' {
		return 0, errors.New("the server answered the TLS request with neither yes nor no")
	}
	return b[0], nil
}

// tlsRefused reports whether the server answered the TLS request with "no" (ssl = off).
// pgconn reports this with a plain error, so its text is the only handle; the tests pin it.
func tlsRefused(err error) bool {
	return err != nil && strings.Contains(err.Error(), "server refused TLS connection")
}

// cleartextRefused reports whether the connection failed because the server asked for the
// password in cleartext on a connection without TLS: refused by Rosetta's own exchange
// (startSession), or by pgx's require_auth=!password for the passwords pgx authenticates,
// which pgconn reports with a plain error.
func cleartextRefused(err error) bool {
	return errors.Is(err, errCleartextRefused) || err != nil && strings.Contains(err.Error(), "require_auth check failed") &&
		strings.Contains(err.Error(), "server requested password authentication")
}
