// Package config reads the environment once at start-up into a validated Config. A bad
// value stops start-up with a message naming the variable; nothing else reads os.Getenv.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/rosetta-cdc/rosetta/internal/tlsfiles"
)

// Seconds accepts "30" (the seed's unit) as well as Go durations like "30s" or "1m".
type Seconds time.Duration

func (s *Seconds) UnmarshalText(b []byte) error {
	v := strings.TrimSpace(string(b))
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n < 0 {
			return errors.New("must not be negative")
		}
		*s = Seconds(time.Duration(n * float64(time.Second)))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q is neither a number of seconds nor a duration like 30s", v)
	}
	if d < 0 {
		return errors.New("must not be negative")
	}
	*s = Seconds(d)
	return nil
}

func (s Seconds) D() time.Duration { return time.Duration(s) }

type Config struct {
	AppEnv string `env:"APP_ENV" envDefault:"development"`
	Debug  bool   `env:"DEBUG" envDefault:"false"`

	// DatabaseURL empty means: start the embedded cluster under DataDir (development only).
	DatabaseURL     string  `env:"DATABASE_URL"`
	DBPoolSize      int     `env:"DB_POOL_SIZE" envDefault:"20"`
	DBMaxOverflow   int     `env:"DB_MAX_OVERFLOW" envDefault:"10"`
	DBPoolTimeout   Seconds `env:"DB_POOL_TIMEOUT" envDefault:"30"`
	DBPoolRecycle   Seconds `env:"DB_POOL_RECYCLE" envDefault:"3600"`
	MigrateOnStart  bool    `env:"MIGRATE_ON_START" envDefault:"true"`
	DataDir         string  `env:"DATA_DIR" envDefault:".data"`
	SecretKey       string  `env:"SECRET_KEY"`
	SecretKeyOld    string  `env:"SECRET_KEY_OLD"`
	HTTPAddr        string  `env:"HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	ShutdownTimeout Seconds `env:"SHUTDOWN_TIMEOUT" envDefault:"20"`
	// MetricsAddr, when set, is a second listener serving only /metrics without
	// authentication, for a Prometheus on a private network.
	MetricsAddr string `env:"METRICS_ADDR"`
	// PprofAddr, when set, is a loopback-only listener serving Go's profiler
	// (/debug/pprof/), without authentication: for measuring (make bench-load
	// -cpuprofile), never for production traffic. Off by default.
	PprofAddr string `env:"PPROF_ADDR"`

	// TLSCertFile and TLSKeyFile (both or neither) make the server speak HTTPS itself;
	// renewed files are picked up without a restart (internal/tlsfiles).
	TLSCertFile string `env:"TLS_CERT_FILE"`
	TLSKeyFile  string `env:"TLS_KEY_FILE"`

	LogLevel  string `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat string `env:"LOG_FORMAT" envDefault:"text"`
	LogFile   string `env:"LOG_FILE"`

	// WALMonitorEnabled false: this instance never probes (it still serves the samples
	// another instance writes).
	WALMonitorEnabled  bool    `env:"WAL_MONITOR_ENABLED" envDefault:"true"`
	WALMonitorInterval Seconds `env:"WAL_MONITOR_INTERVAL_SECONDS" envDefault:"300"`
	// WALMonitorConcurrency is how many sources are probed at once. A probe is about six
	// round trips (TLS request, startup, two SCRAM messages, the statement), so with sources
	// on other hosts a cycle is bound by latency: 200 sources 50 ms away took 7.6 s at 8 in
	// flight and 3.1 s at 32 (BENCHMARKS.md, "WAL monitor cycle").
	WALMonitorConcurrency int `env:"WAL_MONITOR_CONCURRENCY" envDefault:"32"`
	WALMonitorMaxRetries  int `env:"WAL_MONITOR_MAX_RETRIES" envDefault:"3"`
	// WALMonitorFailuresToError: failed cycles in a row before a RUNNING pipeline of the
	// source turns ERROR.
	WALMonitorFailuresToError int `env:"WAL_MONITOR_FAILURES_TO_ERROR" envDefault:"2"`
	// WALMonitorMaxConnections caps the sessions the monitor holds open to sources at once
	// (probing and cached between cycles together).
	WALMonitorMaxConnections int     `env:"WAL_MONITOR_MAX_CONNECTIONS" envDefault:"64"`
	WALRetention             Seconds `env:"WAL_RETENTION" envDefault:"2592000"`
	// WALListenReconnectDelay is the wait between attempts to reopen the LISTEN
	// connection of live WAL updates after it broke (a database restart): short, since
	// open charts stand still until it is back.
	WALListenReconnectDelay Seconds `env:"WAL_LISTEN_RECONNECT_SECONDS" envDefault:"2"`
	// WALRetentionAlertBytes is the default per-source threshold of slot-retained WAL
	// above which an alert is raised (10 GiB).
	WALRetentionAlertBytes int64 `env:"WAL_RETENTION_ALERT_BYTES" envDefault:"10737418240"`

	// APIRateLimit is the requests per second each API token may make (and each
	// signed-in user calling the API with a console session), APIRateBurst how many it
	// may make at once above that; 0 turns the limit off. Per instance, in memory.
	APIRateLimit float64 `env:"API_RATE_LIMIT" envDefault:"20"`
	APIRateBurst int     `env:"API_RATE_BURST" envDefault:"100"`
	// APITokenCacheTTL is how long a verified API token is trusted without asking the
	// database again: the bound on how late a revocation, an expiry, a disabled user or
	// a role change made on another instance takes effect here (on the instance that
	// made the change, at once). 0 checks the database on every request.
	APITokenCacheTTL Seconds `env:"API_TOKEN_CACHE_TTL" envDefault:"5"`
	// SessionCacheTTL is the same for console sessions: how long a session read from
	// the database, and its user's role and status, are trusted without asking again.
	// It bounds how late a sign-out, a disabled user, a role change or a password
	// reset made on another instance takes effect here. 0 reads both on every request.
	SessionCacheTTL Seconds `env:"SESSION_CACHE_TTL" envDefault:"5"`

	CORSAllowedOrigins []string `env:"CORS_ALLOWED_ORIGINS" envSeparator:","`
	// TrustedProxies are the addresses (or CIDRs) of reverse proxies whose
	// X-Forwarded-For is believed; empty means the TCP peer is the client.
	TrustedProxies []string `env:"TRUSTED_PROXIES" envSeparator:","`

	// SecretKeyGenerated is set when development mode made up SecretKey (and stored it).
	SecretKeyGenerated bool `env:"-"`
	// WALMonitorIntervalSet: WAL_MONITOR_INTERVAL_SECONDS was given, not defaulted.
	// Development's demo shortens only a defaulted interval (internal/app).
	WALMonitorIntervalSet bool `env:"-"`
}

const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
	EnvTest        = "test"
)

func (c *Config) IsDevelopment() bool { return c.AppEnv == EnvDevelopment }
func (c *Config) IsProduction() bool  { return c.AppEnv == EnvProduction }

// Load reads the environment and validates every value, reporting all problems at once.
func Load() (*Config, error) {
	return LoadFrom(nil)
}

// LoadFrom is Load over an explicit environment (nil = the process environment); tests use it.
func LoadFrom(environ map[string]string) (*Config, error) {
	var c Config
	concurrencySet := false
	opts := env.Options{OnSet: func(tag string, _ any, isDefault bool) {
		if tag == "WAL_MONITOR_INTERVAL_SECONDS" && !isDefault {
			c.WALMonitorIntervalSet = true
		}
		if tag == "WAL_MONITOR_CONCURRENCY" && !isDefault {
			concurrencySet = true
		}
	}}
	if environ != nil {
		opts.Environment = environ
	}
	if err := env.ParseWithOptions(&c, opts); err != nil {
		return nil, describeParseError(err)
	}
	// A deployment that lowered the connection cap before the default concurrency rose
	// to 32 keeps starting: the default follows the cap. Only a concurrency someone set
	// above the cap is refused, by validate.
	if !concurrencySet && c.WALMonitorMaxConnections >= 1 && c.WALMonitorMaxConnections < c.WALMonitorConcurrency {
		c.WALMonitorConcurrency = c.WALMonitorMaxConnections
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) validate() error {
	var problems []string
	bad := func(name, format string, args ...any) {
		problems = append(problems, name+": "+fmt.Sprintf(format, args...))
	}
	c.AppEnv = strings.ToLower(strings.TrimSpace(c.AppEnv))
	switch c.AppEnv {
	case EnvDevelopment, EnvProduction, EnvTest:
	default:
		bad("APP_ENV", "%q is not one of development, production, test", c.AppEnv)
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			// never echo the URL: it usually carries a password
			bad("DATABASE_URL", "must be a postgres:// or postgresql:// URL")
		}
	} else if c.IsProduction() {
		bad("DATABASE_URL", "is required in production (the embedded cluster is for development)")
	}
	if c.DBPoolSize < 1 || c.DBPoolSize > 1000 {
		bad("DB_POOL_SIZE", "must be between 1 and 1000, got %d", c.DBPoolSize)
	}
	if c.DBMaxOverflow < 0 || c.DBMaxOverflow > 1000 {
		bad("DB_MAX_OVERFLOW", "must be between 0 and 1000, got %d", c.DBMaxOverflow)
	}
	if c.DBPoolTimeout.D() <= 0 {
		bad("DB_POOL_TIMEOUT", "must be positive")
	}
	if c.DBPoolRecycle.D() < time.Minute {
		bad("DB_POOL_RECYCLE", "must be at least 60 seconds")
	}
	if c.ShutdownTimeout.D() <= 0 {
		bad("SHUTDOWN_TIMEOUT", "must be positive")
	}
	if c.IsProduction() && c.SecretKey == "" {
		bad("SECRET_KEY", "is required in production (credentials are sealed with it); generate one with: openssl rand -hex 32")
	}
	if c.SecretKey != "" && len(c.SecretKey) < 16 {
		bad("SECRET_KEY", "must be at least 16 characters")
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("HTTP_ADDR", "%q is not host:port (e.g. 127.0.0.1:8080 or :8080)", c.HTTPAddr)
	}
	c.validateTLS(bad)
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("METRICS_ADDR", "%q is not host:port (e.g. 10.0.0.5:9100, or empty for no separate listener)", c.MetricsAddr)
		} else if c.MetricsAddr == c.HTTPAddr {
			bad("METRICS_ADDR", "must differ from HTTP_ADDR (%s)", c.HTTPAddr)
		}
	}
	if c.PprofAddr != "" {
		// The profiler answers anyone who reaches it (stacks name code paths, heap
		// profiles hold request data), so only this machine may.
		host, _, err := net.SplitHostPort(c.PprofAddr)
		ip := net.ParseIP(host)
		switch {
		case err != nil:
			bad("PPROF_ADDR", "%q is not host:port (e.g. 127.0.0.1:6060, or empty for no profiler)", c.PprofAddr)
		case host != "localhost" && (ip == nil || !ip.IsLoopback()):
			bad("PPROF_ADDR", "%q must be a loopback address (127.0.0.1, ::1 or localhost): the profiler has no authentication", c.PprofAddr)
		case c.PprofAddr == c.HTTPAddr || c.PprofAddr == c.MetricsAddr:
			bad("PPROF_ADDR", "must differ from HTTP_ADDR and METRICS_ADDR")
		}
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
		c.LogLevel = strings.ToLower(c.LogLevel)
	default:
		bad("LOG_LEVEL", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch strings.ToLower(c.LogFormat) {
	case "text", "json":
		c.LogFormat = strings.ToLower(c.LogFormat)
	default:
		bad("LOG_FORMAT", "%q is not one of text, json", c.LogFormat)
	}
	if c.WALMonitorInterval.D() < time.Second {
		bad("WAL_MONITOR_INTERVAL_SECONDS", "must be at least 1 second")
	}
	if c.WALMonitorConcurrency < 1 || c.WALMonitorConcurrency > 256 {
		bad("WAL_MONITOR_CONCURRENCY", "must be between 1 and 256, got %d", c.WALMonitorConcurrency)
	}
	if c.WALMonitorMaxRetries < 0 || c.WALMonitorMaxRetries > 10 {
		bad("WAL_MONITOR_MAX_RETRIES", "must be between 0 and 10, got %d", c.WALMonitorMaxRetries)
	}
	if c.WALMonitorFailuresToError < 1 || c.WALMonitorFailuresToError > 100 {
		bad("WAL_MONITOR_FAILURES_TO_ERROR", "must be between 1 and 100, got %d", c.WALMonitorFailuresToError)
	}
	if c.WALMonitorMaxConnections < 1 || c.WALMonitorMaxConnections > 10000 {
		bad("WAL_MONITOR_MAX_CONNECTIONS", "must be between 1 and 10000, got %d", c.WALMonitorMaxConnections)
	} else if c.WALMonitorMaxConnections < c.WALMonitorConcurrency {
		bad("WAL_MONITOR_MAX_CONNECTIONS", "must be at least WAL_MONITOR_CONCURRENCY (%d), got %d", c.WALMonitorConcurrency, c.WALMonitorMaxConnections)
	}
	if c.WALRetention.D() < 24*time.Hour {
		bad("WAL_RETENTION", "must be at least one day (samples are kept in daily partitions), got %s", c.WALRetention.D())
	}
	if d := c.WALListenReconnectDelay.D(); d < 10*time.Millisecond || d > 5*time.Minute {
		bad("WAL_LISTEN_RECONNECT_SECONDS", "must be between 0.01 and 300 seconds, got %s", d)
	}
	if c.WALRetentionAlertBytes < 1 {
		bad("WAL_RETENTION_ALERT_BYTES", "must be a positive number of bytes, got %d", c.WALRetentionAlertBytes)
	}
	if c.APIRateLimit < 0 || c.APIRateLimit > 1e6 {
		bad("API_RATE_LIMIT", "must be between 0 (no limit) and 1000000 requests per second, got %g", c.APIRateLimit)
	}
	if c.APIRateBurst < 0 || c.APIRateBurst > 1e6 {
		bad("API_RATE_BURST", "must be between 0 and 1000000, got %d", c.APIRateBurst)
	} else if c.APIRateLimit > 0 && c.APIRateBurst < 1 {
		bad("API_RATE_BURST", "must be at least 1 when API_RATE_LIMIT is set (a burst of 0 refuses every request)")
	}
	if c.APITokenCacheTTL.D() > time.Minute {
		bad("API_TOKEN_CACHE_TTL", "must be at most 60 seconds (it bounds how late a revoked token stops working), got %s", c.APITokenCacheTTL.D())
	}
	if c.SessionCacheTTL.D() > time.Minute {
		bad("SESSION_CACHE_TTL", "must be at most 60 seconds (it bounds how late a sign-out or a disabled user takes effect), got %s", c.SessionCacheTTL.D())
	}
	for _, o := range c.CORSAllowedOrigins {
		u, err := url.Parse(strings.TrimSpace(o))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("CORS_ALLOWED_ORIGINS", "%q is not an origin like https://ops.example.com", o)
		}
	}
	for _, p := range c.TrustedProxies {
		p = strings.TrimSpace(p)
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			bad("TRUSTED_PROXIES", "%q is neither an IP address nor a CIDR like 10.0.0.0/8", p)
		}
	}
	if len(problems) > 0 {
		return errors.New("configuration:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

// validateTLS insists on the certificate and key together and loads them once, so a
// wrong path or a key that is not the certificate's stops start-up naming the variable.
func (c *Config) validateTLS(bad func(name, format string, args ...any)) {
	c.TLSCertFile, c.TLSKeyFile = strings.TrimSpace(c.TLSCertFile), strings.TrimSpace(c.TLSKeyFile)
	switch {
	case c.TLSCertFile == "" && c.TLSKeyFile == "":
		return
	case c.TLSKeyFile == "":
		bad("TLS_KEY_FILE", "is required with TLS_CERT_FILE (the certificate's private key, PEM)")
		return
	case c.TLSCertFile == "":
		bad("TLS_CERT_FILE", "is required with TLS_KEY_FILE (the certificate chain, PEM)")
		return
	}
	if _, err := tlsfiles.Load(c.TLSCertFile, c.TLSKeyFile); err != nil {
		name := "TLS_KEY_FILE"
		if pe := (*tlsfiles.PairError)(nil); errors.As(err, &pe) && pe.Cert {
			name = "TLS_CERT_FILE"
		}
		bad(name, "%v", err)
	}
}

// describeParseError rewrites the env library's errors, which name Go struct fields, so
// they name the environment variable the operator has to fix.
func describeParseError(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("configuration: %w", err)
	}
	vars := map[string]string{}
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("env"); tag != "" && tag != "-" {
			vars[t.Field(i).Name] = strings.Split(tag, ",")[0]
		}
	}
	var problems []string
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			problems = append(problems, fmt.Sprintf("%s: cannot be read as %s: %v", vars[pe.Name], pe.Type, pe.Err))
			continue
		}
		problems = append(problems, e.Error())
	}
	return errors.New("configuration:\n  " + strings.Join(problems, "\n  "))
}

// MaxConns maps the seed's pool settings onto pgxpool, which has a single ceiling rather
// than a persistent core plus temporary overflow.
func (c *Config) MaxConns() int32 { return int32(c.DBPoolSize + c.DBMaxOverflow) }

// EnsureDevSecret gives development a stable SECRET_KEY without configuration: generated
// once and kept in DataDir, so sealed credentials survive restarts.
func (c *Config) EnsureDevSecret() error {
	if c.SecretKey != "" {
		return nil
	}
	if c.IsProduction() {
		return errors.New("SECRET_KEY: is required in production")
	}
	path := filepath.Join(c.DataDir, "secret_key")
	if b, err := os.ReadFile(path); err == nil {
		c.SecretKey = strings.TrimSpace(string(b))
		if len(c.SecretKey) >= 16 {
			return nil
		}
	}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return fmt.Errorf("DATA_DIR: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	c.SecretKey = hex.EncodeToString(raw)
	c.SecretKeyGenerated = true
	if err := os.WriteFile(path, []byte(c.SecretKey+"\n"), 0o600); err != nil {
		return fmt.Errorf("store generated secret key: %w", err)
	}
	return nil
}
