// Package tlsfiles serves TLS from a certificate and key on disk (TLS_CERT_FILE and
// TLS_KEY_FILE) and picks up their renewal without a restart: certbot, cert-manager and
// friends replace the files in place, and a long-running server must notice.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// DefaultCheckInterval bounds how often a handshake looks at the files: a stat of two
// files every few seconds costs nothing, and a renewal is picked up within that time.
const DefaultCheckInterval = 5 * time.Second

// PairError says which of the two files is at fault, so that configuration errors can
// name the variable to fix.
type PairError struct {
	// Cert is true when the certificate file is at fault, false for the key file.
	Cert bool
	Err  error
}

func (e *PairError) Error() string { return e.Err.Error() }
func (e *PairError) Unwrap() error { return e.Err }

// Load reads and checks a certificate (chain) and its private key.
func Load(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, &PairError{Cert: true, Err: err}
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, &PairError{Err: err}
	}
	leaf, err := firstCertificate(certPEM)
	if err != nil {
		return nil, &PairError{Cert: true, Err: fmt.Errorf("%s: %w", certFile, err)}
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The certificate parsed, so the key is what is wrong: unreadable, or not the
		// certificate's own. The error text never quotes key material.
		return nil, &PairError{Err: fmt.Errorf("%s: %w (it must be the private key of the certificate in %s)", keyFile, err, certFile)}
	}
	pair.Leaf = leaf
	return &pair, nil
}

func firstCertificate(certPEM []byte) (*x509.Certificate, error) {
	for rest := certPEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM CERTIFICATE block found")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}

// Option adjusts a Reloader.
type Option func(*Reloader)

// WithCheckInterval sets how often the files are looked at (0: at every handshake).
func WithCheckInterval(d time.Duration) Option { return func(r *Reloader) { r.interval = d } }

// Reloader hands out the current certificate for every TLS handshake and re-reads the
// files when their modification time, size or inode changes. A replacement that does not
// load (half written, or the certificate renewed before its key) is logged and the last
// good pair stays in service; the next change is tried again.
type Reloader struct {
	certFile, keyFile string
	log               *slog.Logger
	interval          time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	seen    stamp
	checked time.Time
}

// New loads the pair once; an error here stops start-up (it is a *PairError).
func New(certFile, keyFile string, log *slog.Logger, opts ...Option) (*Reloader, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, log: log, interval: DefaultCheckInterval}
	for _, o := range opts {
		o(r)
	}
	r.seen = r.stamp()
	cert, err := Load(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	r.cert, r.checked = cert, time.Now()
	return r, nil
}

// GetCertificate is for tls.Config.GetCertificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= r.interval {
		r.checked = now
		r.reloadIfChanged()
	}
	return r.cert, nil
}

// Certificate is the pair in service.
func (r *Reloader) Certificate() *tls.Certificate {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cert
}

func (r *Reloader) reloadIfChanged() {
	st := r.stamp()
	if st == r.seen {
		return
	}
	// Remember the state even when it fails to load, so a broken file is reported once,
	// not at every handshake; completing or replacing it changes the stamp again.
	r.seen = st
	cert, err := Load(r.certFile, r.keyFile)
	if err != nil {
		r.log.Warn("TLS certificate files changed but do not load; still serving the previous certificate",
			"cert_file", r.certFile, "key_file", r.keyFile, "err", err, "serving_until", r.cert.Leaf.NotAfter)
		return
	}
	r.cert = cert
	r.log.Info("TLS certificate reloaded", "cert_file", r.certFile, "subject", cert.Leaf.Subject.String(),
		"not_after", cert.Leaf.NotAfter)
}

// stamp identifies the files' current contents cheaply. The inode catches a renewal
// written elsewhere and renamed into place with its timestamps preserved.
type stamp struct{ cert, key fileStamp }

type fileStamp struct {
	mod  time.Time
	size int64
	ino  uint64
	ok   bool
}

func (r *Reloader) stamp() stamp { return stamp{statFile(r.certFile), statFile(r.keyFile)} }

func statFile(path string) fileStamp {
	st, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	fs := fileStamp{mod: st.ModTime(), size: st.Size(), ok: true}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		fs.ino = uint64(sys.Ino)
	}
	return fs
}

// TLSConfig is a server configuration that always presents the current pair (TLS 1.2 or
// newer, HTTP/2 offered).
func (r *Reloader) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

// Wrap turns ln into a TLS listener when certFile and keyFile are set (configuration
// checks they come together) and says which scheme the server now speaks. With neither
// set it returns ln unchanged and "http".
func Wrap(ln net.Listener, certFile, keyFile string, log *slog.Logger) (net.Listener, string, error) {
	if certFile == "" && keyFile == "" {
		return ln, "http", nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r, err := New(certFile, keyFile, log)
	if err != nil {
		return nil, "", fmt.Errorf("TLS_CERT_FILE/TLS_KEY_FILE: %w", err)
	}
	log.Info("serving HTTPS; certificate files are re-read when they change", "cert_file", certFile,
		"subject", r.cert.Leaf.Subject.String(), "not_after", r.cert.Leaf.NotAfter)
	return tls.NewListener(ln, r.TLSConfig()), "https", nil
}
