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
// and whether there are more (the pipeline form asks for one: is there any to choose?).
// They read ids and names only, never a count, so they cost the same at any fleet size.
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

// MatchSourceNames and MatchDestinationNames are the first limit sources (destinations)
// whose name contains text, case-insensitive, by name, and whether there are more: what
// the pipelines list's filters and the pipeline form suggest as the operator types. Empty text matches every
// name. Like SourceNames they never count, so a suggestion costs the same at any fleet
// size.
func (s *Service) MatchSourceNames(ctx context.Context, text string, limit int) ([]Named, bool, error) {
	return firstNames(ctx, limit, func(ctx context.Context, lim int32) ([]db.SearchSourceNamesRow, error) {
		return s.q.SearchSourceNames(ctx, db.SearchSourceNamesParams{Pattern: likeText(text), Lim: lim})
	}, func(r db.SearchSourceNamesRow) Named { return Named(r) })
}

func (s *Service) MatchDestinationNames(ctx context.Context, text string, limit int) ([]Named, bool, error) {
	return firstNames(ctx, limit, func(ctx context.Context, lim int32) ([]db.SearchDestinationNamesRow, error) {
		return s.q.SearchDestinationNames(ctx, db.SearchDestinationNamesParams{Pattern: likeText(text), Lim: lim})
	}, func(r db.SearchDestinationNamesRow) Named { return Named(r) })
}

// likeText is text as a LIKE pattern that matches it literally ("" for none).
func likeText(text string) string {
	if p := qArg(text); p != nil {
		return *p
	}
	return ""
}

// SourceNamed and DestinationNamed find an entity by its exact name, case-insensitive
// (names are unique that way): a name typed into a filter. NotFound when none has it.
func (s *Service) SourceNamed(ctx context.Context, name string) (Named, error) {
	r, err := s.q.GetSourceNamed(ctx, name)
	if err != nil {
		return Named{}, translate(err, "source", "")
	}
	return Named(r), nil
}

func (s *Service) DestinationNamed(ctx context.Context, name string) (Named, error) {
	r, err := s.q.GetDestinationNamed(ctx, name)
	if err != nil {
		return Named{}, translate(err, "destination", "")
	}
	return Named(r), nil
}
