package catalog

import (
	"net"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
)

var (
	// PostgreSQL's own rule for replication slot names (ReplicationSlotValidateName).
	slotNameRe = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)
	// An unquoted PostgreSQL identifier; quoted publication names are rare enough that
	// refusing them beats a check that silently looks for the wrong name.
	pgIdentRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,62}$`)
	// Snowflake account identifiers: orgname-accountname, or a locator with region and
	// cloud segments (xy12345.us-east-2.aws).
	sfAccountRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*)*$`)
	// An unquoted Snowflake identifier (database, schema, role, warehouse).
	sfIdentRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,254}$`)
	// Snowflake user names may be e-mail-like.
	sfUserRe  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.@$-]{0,254}$`)
	hostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
)

// validName checks a display name: required, at most 100 characters, no control characters.
func validName(f *apperr.Fields, field, v string) {
	switch {
	case !f.Text(field, v):
	case v == "":
		f.Add(field, "is required")
	case utf8.RuneCountInString(v) > 100:
		f.Add(field, "must be at most 100 characters")
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		f.Add(field, "must not contain control characters")
	}
}

func required(f *apperr.Fields, field, v string, max int) bool {
	switch {
	case !f.Text(field, v):
		return false
	case strings.TrimSpace(v) == "":
		f.Add(field, "is required")
		return false
	case len(v) > max:
		f.Add(field, "must be at most %d bytes", max)
		return false
	}
	return true
}

// validSecret refuses a password or passphrase that is not text (invalid UTF-8, NUL)
// rather than storing something other than what was typed. nil means "not given".
func validSecret(f *apperr.Fields, field string, v *string) {
	if v != nil {
		f.Text(field, *v)
	}
}

// validHost accepts an IP address or an RFC 1123 host name.
func validHost(f *apperr.Fields, field, v string) {
	if !required(f, field, v, 253) {
		return
	}
	if net.ParseIP(strings.Trim(v, "[]")) != nil {
		return
	}
	for _, l := range strings.Split(strings.TrimSuffix(v, "."), ".") {
		if !hostLabel.MatchString(l) {
			f.Add(field, "must be a host name (like db.example.com) or an IP address")
			return
		}
	}
}

func validPattern(f *apperr.Fields, field, v string, re *regexp.Regexp, max int, what string) {
	if !required(f, field, v, max) {
		return
	}
	if !re.MatchString(v) {
		f.Add(field, "%s", what)
	}
}

func validPort(f *apperr.Fields, field string, p int) {
	if p < 1 || p > 65535 {
		f.Add(field, "must be between 1 and 65535")
	}
}

func validAbsPath(f *apperr.Fields, field, v string) {
	if !required(f, field, v, 4096) {
		return
	}
	if !path.IsAbs(v) {
		f.Add(field, "must be an absolute path (like /etc/rosetta/snowflake_key.p8)")
	}
}

// trimmed trims surrounding spaces: a trailing space pasted into a host name is never meant.
func trimmed(v string) string { return strings.TrimSpace(v) }

func trimmedPtr(v *string) *string {
	if v == nil {
		return nil
	}
	t := strings.TrimSpace(*v)
	return &t
}
