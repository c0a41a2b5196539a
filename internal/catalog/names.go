package catalog

import (
	"context"
	"fmt"

	"github.com/rosetta-cdc/rosetta/internal/db"
)

// Named is an entity as a choice in a select: its id and name.
type Named struct {
	ID   int64
	Name string
}

// SourceNames and DestinationNames are the first limit sources (destinations) by name,
// and whether there are more: what the pipeline selects offer. They read ids and names
// only, never a count, so a page that offers a choice costs the same at any fleet size.
func (s *Service) SourceNames(ctx context.Context, limit int) ([]Named, bool, error) {
	return firstNames(ctx, limit, s.q.ListSourceNames, func(r db.ListSourceNamesRow) Named { return Named(r) })
}

func (s *Service) DestinationNames(ctx context.Context, limit int) ([]Named, bool, error) {
	return firstNames(ctx, limit, s.q.ListDestinationNames, func(r db.ListDestinationNamesRow) Named { return Named(r) })
}

func firstNames[R any](ctx context.Context, limit int, list func(context.Context, int32) ([]R, error), named func(R) Named) ([]Named, bool, error) {
	if limit < 1 || limit > MaxLimit {
		return nil, false, fmt.Errorf("catalog: names limit %d out of range", limit)
	}
	rows, err := list(ctx, int32(limit+1)) // one more says whether there are more
	if err != nil {
		return nil, false, err
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	out := make([]Named, len(rows))
	for i, r := range rows {
		out[i] = named(r)
	}
	return out, more, nil
}
