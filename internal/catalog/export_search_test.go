package catalog

// SourceListSQL and DestinationListSQL are the one statement ListSources and
// ListDestinations run for these controls, with its arguments. The growth benchmark
// EXPLAINs them.
func SourceListSQL(p ListParams, totalCap int) (string, []any, error) {
	if err := p.normalize(SourceSorts); err != nil {
		return "", nil, err
	}
	q := sourceListQuery(p)
	return q.listSQL(p.Sort, p.Limit, p.Offset, totalCap)
}

func DestinationListSQL(p ListParams, totalCap int) (string, []any, error) {
	if err := p.normalize(DestinationSorts); err != nil {
		return "", nil, err
	}
	q := destinationListQuery(p)
	return q.listSQL(p.Sort, p.Limit, p.Offset, totalCap)
}

// SourceNamesSQL is the one statement MatchSourceNames runs for text, asking for lim
// rows. The suggestion tests and benchmark EXPLAIN it.
func SourceNamesSQL(text string, lim int) (string, []any) {
	return sourceNamesSQL(text, int32(lim))
}
