package web_test

import (
	"fmt"
	"github.com/rosetta-cdc/rosetta/internal/snowflake/sftest"
	"net/http"
	"testing"

	"github.com/rosetta-cdc/rosetta/web/webtest"
)

func destBody(name string) map[string]any {
	return map[string]any{
		"name": name, "snowflake_account": "acme-analytics", "snowflake_user": "ROSETTA",
		"snowflake_database": "RAW", "snowflake_schema": "ORDERS", "snowflake_role": "LOADER",
		"snowflake_private_key_path": "/etc/rosetta/key.p8",
	}
}

// startableDestBody is a destination whose local checks pass (a real pasted key) and
// whose Snowflake is unreachable at once, so pipelines using it start with a warning.
func startableDestBody(name string) map[string]any {
	b := destBody(name)
	delete(b, "snowflake_private_key_path")
	b["snowflake_private_key"] = sftest.KeyPEM()
	b["snowflake_host"] = sftest.OfflineHost
	return b
}

func TestDestinationCRUD(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	d := a.Do("POST", "/api/v1/destinations", destBody("warehouse")).Expect(t, http.StatusCreated).Map(t)
	if d["snowflake_host"] != "acme-analytics.snowflakecomputing.com" || d["snowflake_host_is_default"] != true {
		t.Errorf("default host: %v", d)
	}
	if d["snowflake_private_key_passphrase_set"] != false {
		t.Errorf("passphrase_set = %v", d["snowflake_private_key_passphrase_set"])
	}
	id := d["id"]
	u := a.Do("PUT", fmt.Sprintf("/api/v1/destinations/%v", id), map[string]any{
		"snowflake_host": "acme.privatelink.snowflakecomputing.com", "snowflake_warehouse": "LOAD_WH",
		"snowflake_private_key_passphrase": "pp-secret",
	}).Expect(t, 200).Map(t)
	if u["snowflake_host"] != "acme.privatelink.snowflakecomputing.com" || u["snowflake_host_is_default"] != false ||
		u["snowflake_warehouse"] != "LOAD_WH" || u["snowflake_private_key_passphrase_set"] != true || u["snowflake_role"] != "LOADER" {
		t.Errorf("after PUT: %v", u)
	}
	// "" clears optional fields; the host falls back to the account's.
	u = a.Do("PATCH", fmt.Sprintf("/api/v1/destinations/%v", id), map[string]any{"snowflake_host": "", "snowflake_warehouse": ""}).Expect(t, 200).Map(t)
	if u["snowflake_host_is_default"] != true || u["snowflake_warehouse"] != nil || u["snowflake_private_key_passphrase_set"] != true {
		t.Errorf("after clearing: %v", u)
	}
	a.Do("GET", fmt.Sprintf("/api/v1/destinations/%v", id), nil).Expect(t, 200)
	l := a.Do("GET", "/api/v1/destinations?q=WARE", nil).Expect(t, 200).Map(t)
	if l["total"] != float64(1) {
		t.Errorf("list: %v", l)
	}
	expectProblem(t, a.Do("POST", "/api/v1/destinations", destBody("Warehouse")), http.StatusConflict)
	a.Do("DELETE", fmt.Sprintf("/api/v1/destinations/%v", id), nil).Expect(t, http.StatusNoContent)
	expectProblem(t, a.Do("GET", fmt.Sprintf("/api/v1/destinations/%v", id), nil), http.StatusNotFound)
}

func TestDestinationValidation(t *testing.T) {
	t.Parallel()
	a := webtest.New(t)
	p := expectProblem(t, a.Do("POST", "/api/v1/destinations", map[string]any{
		"name": "x", "snowflake_account": "bad account!", "snowflake_user": "", "snowflake_database": "1DB",
		"snowflake_schema": "has space", "snowflake_role": "", "snowflake_private_key_path": "relative/key.p8",
		"snowflake_host": "-bad-", "snowflake_warehouse": "wh;drop",
	}), http.StatusUnprocessableEntity)
	f := fieldsOf(p)
	for _, field := range []string{"snowflake_account", "snowflake_user", "snowflake_database", "snowflake_schema",
		"snowflake_role", "snowflake_private_key_path", "snowflake_host", "snowflake_warehouse"} {
		if f[field] == "" {
			t.Errorf("no message for %s: %v", field, f)
		}
	}
	if _, ok := f["name"]; ok {
		t.Errorf("valid name reported: %v", f)
	}
}
