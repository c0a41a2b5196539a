package catalog

import (
	"slices"
	"testing"
)

func TestSearchWords(t *testing.T) {
	for term, want := range map[string][]string{
		"billing":            {"billing"},
		"ledger-001236":      {"001236", "ledger"},
		"Orders_Ledger core": {"Orders", "Ledger", "core"},
		"ab-cd":              nil,
		"x-y-2024":           {"2024"},
		"dup DUP dup":        {"dup"},
		"Zürich-eu":          {"Zürich"}, // as typed: the database folds case as it folds the term's
		"Ωmega-LOG":          {"Ωmega", "LOG"},
	} {
		if got := searchWords(term); !slices.Equal(got, want) {
			t.Errorf("searchWords(%q) = %q, want %q", term, got, want)
		}
	}
}
