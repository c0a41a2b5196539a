package catalog

// PipelineListSQL is the one statement ListPipelines runs for these controls, with its
// arguments. The growth benchmark EXPLAINs it.
func PipelineListSQL(p ListParams, f PipelineFilter, totalCap int) (string, []any, error) {
	q, err := pipelineListQuery(&p, f)
	if err != nil {
		return "", nil, err
	}
	return q.listSQL(p.Sort, p.Limit, p.Offset, totalCap)
}
