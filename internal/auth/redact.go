package auth

import (
	"log/slog"
	"strings"
)

// Redacted replaces secret values in logs.
const Redacted = "[redacted]"

// secretKeys are attribute names whose values are secrets wherever they appear.
var secretKeys = map[string]bool{
	"password": true, "pg_password": true, "passphrase": true, "snowflake_private_key_passphrase": true,
	"snowflake_private_key": true, "private_key": true,
	"secret": true, "secret_key": true, "token": true, "api_token": true, "authorization": true,
	"cookie": true, "set-cookie": true, "session": true, "csrf": true, "database_url": true,
}

// IsSecretName reports whether a field or attribute of this name holds a secret: logs
// redact it and the audit log records only that it changed.
func IsSecretName(name string) bool { return secretKeys[strings.ToLower(name)] }

// RedactAttr is a slog ReplaceAttr that blanks attributes named like secrets, so a
// careless log call (log.Info("…", "password", pw)) cannot leak one.
func RedactAttr(_ []string, a slog.Attr) slog.Attr {
	if IsSecretName(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	return a
}
