package catalog

// PipelineListSQL is what ListPipelines runs for these controls: the one statement of a
// list request, with its arguments, and the capped count alone (the part of that
// statement the benchmark's plans show apart). The growth benchmark EXPLAINs them.
func PipelineListSQL(p ListParams, f PipelineFilter, totalCap int) (list string, listArgs []any, count string, countArgs []any, err error) {
	q, err := pipelineListQuery(&p, f)
	if err != nil {
		return "", nil, "", nil, err
	}
	list, listArgs, err = q.listSQL(p.Sort, p.Limit, p.Offset, totalCap)
	return list, listArgs, q.countSQL(totalCap + 1), q.args, err
}
