// Package snowflake checks that a Snowflake destination is ready: the account identifier,
// the private key (file or pasted PEM, its permissions, format, passphrase and strength)
// and, over the network, DNS, TLS and a key-pair (JWT) sign-in through Snowflake's SQL
// API. It talks HTTPS only: the official driver would more than double the binary for
// one statement. It knows nothing of the catalog, echo or templ.
package snowflake

import (
	"fmt"
	"regexp"
	"strings"
)

// Account is a parsed account identifier.
type Account struct {
	// Identifier is what the operator configured.
	Identifier string
	// JWTName is the account as Snowflake expects it in a key-pair JWT: upper case,
	// without region or cloud for a legacy locator.
	JWTName string
	// Host is the account's default host name.
	Host string
	// Legacy is true for a locator (xy12345.us-east-2.aws) rather than orgname-accountname.
	Legacy bool
}

var (
	// orgname-accountname: organisation names are letters and digits; account names may
	// also hold underscores.
	orgAccountRe = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*)-([A-Za-z][A-Za-z0-9_]*)$`)
	// A legacy locator (xy12345), optionally followed by region and cloud.
	locatorRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
	regionRe  = regexp.MustCompile(`^[a-z]+(-[a-z]+)*-?[0-9]+$`)
	clouds    = map[string]bool{"aws": true, "azure": true, "gcp": true}
)

// ParseAccount reads an account identifier in one of the forms Snowflake documents:
// orgname-accountname (preferred), or a legacy account locator with its region and
// cloud (xy12345.us-east-2.aws; a bare locator means AWS US West (Oregon)).
func ParseAccount(id string) (Account, error) {
	id = strings.TrimSpace(id)
	lower := strings.ToLower(id)
	a := Account{Identifier: id, Host: lower + ".snowflakecomputing.com"}
	if m := orgAccountRe.FindStringSubmatch(id); m != nil {
		a.JWTName = strings.ToUpper(id)
		return a, nil
	}
	parts := strings.Split(lower, ".")
	if !locatorRe.MatchString(parts[0]) {
		return a, fmt.Errorf("account identifier %q is neither orgname-accountname (like acme-analytics) "+
			"nor an account locator (like xy12345.us-east-2.aws): copy it from Snowsight's account menu "+
			"(View account details → Account identifier)", id)
	}
	switch len(parts) {
	case 1:
	case 2, 3:
		if !regionRe.MatchString(parts[1]) {
			return a, fmt.Errorf("account identifier %q: %q is not a Snowflake region (like us-east-2 or east-us-2)", id, parts[1])
		}
		if len(parts) == 3 && !clouds[parts[2]] {
			return a, fmt.Errorf("account identifier %q: %q is not a cloud (aws, azure or gcp)", id, parts[2])
		}
	default:
		return a, fmt.Errorf("account identifier %q has too many parts: use locator.region.cloud, like xy12345.us-east-2.aws", id)
	}
	a.Legacy = true
	// Snowflake documents the JWT's account as the locator alone, without region or cloud.
	a.JWTName = strings.ToUpper(parts[0])
	return a, nil
}
