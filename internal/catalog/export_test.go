package catalog

// PipelineListSQL is what ListPipelines runs for these controls: the page's statement and
// the total's, with their arguments. The growth benchmark EXPLAINs them.
func PipelineListSQL(p ListParams, f PipelineFilter, totalCap int) (page string, pageArgs []any, count string, countArgs []any, err error) {
	q, err := pipelineListQuery(&p, f)
	if err != nil {
		return "", nil, "", nil, err
	}
	page, pageArgs, err = q.pageSQL(p.Sort, p.Limit, p.Offset)
	return page, pageArgs, q.countSQL(totalCap + 1), q.args, err
}
