package web_test

import (
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }
