package catalog

import (
	"slices"
	"testing"
)

func TestSearchWords(t *testing.T) {
	for term, want := range map[string][]string{
		"billing":            {"billing"},
		"ledger-001236":      {"001236", "ledger"},
		"Orders_Ledger core": {"orders", "ledger", "core"},
		"ab-cd":              nil,
		"x-y-2024":           {"2024"},
		"dup DUP dup":        {"dup"},
		"Zürich-eu":          {"zürich"},
	} {
		if got := searchWords(term); !slices.Equal(got, want) {
			t.Errorf("searchWords(%q) = %q, want %q", term, got, want)
		}
	}
}
