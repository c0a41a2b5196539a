package catalog

import (
	"testing"

	"github.com/rosetta-cdc/rosetta/internal/db"
)

// The hand-written field lists must name every field of their sqlc model, in order: a
// column added to the view or table (and so to the model, by make generate) and missed
// here would shift every later column onto the wrong field or fail every list.
func TestFieldListsFollowTheirModels(t *testing.T) {
	t.Run("pipeline_view", func(t *testing.T) {
		var v db.PipelineView
		sameFields(t, pipelineViewFields(&v, nil), byPosition[db.PipelineView]()(&v, nil))
	})
	t.Run("sources", func(t *testing.T) {
		var v db.Source
		sameFields(t, sourceFields(&v, nil), byPosition[db.Source]()(&v, nil))
	})
}

func sameFields(t *testing.T, got, want []any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d fields listed, the model has %d", len(got), len(want))
	}
	for i := range want {
		// Same type and same address: the same field.
		if got[i] != want[i] {
			t.Errorf("field %d: listed %T at %p, the model's is %T at %p", i, got[i], got[i], want[i], want[i])
		}
	}
}

// byPosition appends after what dst already holds (the list's leading columns) and
// refuses a struct that is not a flat model.
func TestByPosition(t *testing.T) {
	type row struct {
		A int64
		B *string
	}
	var r row
	head := new(int64)
	got := byPosition[row]()(&r, []any{head})
	if len(got) != 3 || got[0] != any(head) || got[1] != any(&r.A) || got[2] != any(&r.B) {
		t.Fatalf("byPosition = %v, want [head &A &B]", got)
	}
	type hidden struct {
		A int64
		b int64
	}
	_ = hidden{b: 1} // a column field nobody may scan into
	defer func() {
		if recover() == nil {
			t.Fatal("byPosition accepted a struct with an unexported field")
		}
	}()
	byPosition[hidden]()
}
