package partials

import (
	"strconv"

	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/internal/snowflake"
)

// DestinationChecks is the "Test connection" result region of a destination's page.
type DestinationChecks struct {
	DestinationID int64
	Checks        []pgsource.Check
	Fingerprint   string
	Ran           bool
}

// DestinationChecksID is the id of a destination page's check results region.
func DestinationChecksID(id int64) string {
	return "destination-" + strconv.FormatInt(id, 10) + "-checks"
}

// destinationCheckTitle names a destination check in words.
func destinationCheckTitle(name string) (string, bool) {
	switch name {
	case snowflake.CheckAccount:
		return "Account", true
	case snowflake.CheckPrivateKey:
		return "Private key", true
	case snowflake.CheckKeyFormat:
		return "Key format", true
	case snowflake.CheckKeyPassphrase:
		return "Passphrase", true
	case snowflake.CheckKeyStrength:
		return "Key strength", true
	case snowflake.CheckDNS:
		return "DNS", true
	case snowflake.CheckTLS:
		return "TLS", true
	case snowflake.CheckSignIn:
		return "Sign-in", true
	}
	return "", false
}
