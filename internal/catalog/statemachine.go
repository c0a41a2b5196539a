package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/db"
)

// Desired status (what the operator asked) and runtime status (what Rosetta observed).
const (
	DesiredStart   = "START"
	DesiredPause   = "PAUSE"
	DesiredRefresh = "REFRESH"

	RuntimeRunning = "RUNNING"
	RuntimePaused  = "PAUSED"
	RuntimeError   = "ERROR"
)

var (
	DesiredStatuses = []string{DesiredStart, DesiredPause, DesiredRefresh}
	RuntimeStatuses = []string{RuntimeRunning, RuntimePaused, RuntimeError}
)

// Action is what an operator asks of a pipeline. It is the one vocabulary of the
// console's buttons, the routes of both faces and the audit log's pipeline actions.
type Action string

const (
	ActionStart   Action = "start"
	ActionPause   Action = "pause"
	ActionRefresh Action = "refresh"
)

// Actions lists every action, in the order the console offers them.
var Actions = []Action{ActionStart, ActionPause, ActionRefresh}

// ParseAction accepts an action's name; anything else is an Invalid error naming the
// field "action", never a silent zero value.
func ParseAction(s string) (Action, error) {
	for _, a := range Actions {
		if string(a) == s {
			return a, nil
		}
	}
	names := make([]string, len(Actions))
	for i, a := range Actions {
		names[i] = string(a)
	}
	var f apperr.Fields
	f.Add("action", "must be one of %s", strings.Join(names, ", "))
	return "", f.Err()
}

// Desired is the desired status the action asks for.
func (a Action) Desired() string {
	switch a {
	case ActionStart:
		return DesiredStart
	case ActionPause:
		return DesiredPause
	case ActionRefresh:
		return DesiredRefresh
	}
	return ""
}

// runsPreflight: start and refresh check the source first; pause never needs it.
func (a Action) runsPreflight() bool { return a == ActionStart || a == ActionRefresh }

// Outcome is what an action does to a pipeline in a given state.
type Outcome int

const (
	// Changes: the action moves the pipeline (the only outcome the console offers).
	Changes Outcome = iota
	// NoOp: the pipeline is already where the action would take it (starting a running
	// pipeline); answered as success with nothing changed.
	NoOp
	// Refused: the action cannot be taken now (a refresh while one is running).
	Refused
)

// Decide is the pipeline state machine: what action does to a pipeline whose desired
// and runtime statuses are given, and for Refused the error to answer. Both the
// service's transitions (before and again under the row lock) and the console's
// buttons ask it.
func Decide(a Action, desired, runtime string) (Outcome, error) {
	switch a {
	case ActionStart:
		if runtime == RuntimeRunning {
			return NoOp, nil
		}
	case ActionPause:
		if desired == DesiredPause && runtime == RuntimePaused {
			return NoOp, nil
		}
	case ActionRefresh:
		if desired == DesiredRefresh && runtime == RuntimeRunning {
			return Refused, apperr.E(apperr.Conflict, "a refresh is already running; wait for it to finish or pause the pipeline")
		}
	default:
		_, err := ParseAction(string(a))
		return Refused, err
	}
	return Changes, nil
}

// AllowedActions are the actions that change a pipeline in the given state, in the
// order of Actions: what the console offers as buttons.
func AllowedActions(desired, runtime string) []Action {
	var out []Action
	for _, a := range Actions {
		if o, _ := Decide(a, desired, runtime); o == Changes {
			out = append(out, a)
		}
	}
	return out
}

// CanDelete reports whether a pipeline in this runtime status may be deleted: a running
// one would orphan a replication slot that keeps retaining WAL.
func CanDelete(runtime string) bool { return runtime != RuntimeRunning }

// CanRepoint reports whether a pipeline in this runtime status may change its source or
// destination: a running one must be paused first.
func CanRepoint(runtime string) bool { return runtime != RuntimeRunning }

// AllowedActions, CanDelete and CanRepoint of a loaded pipeline.
func (p Pipeline) AllowedActions() []Action { return AllowedActions(p.Status, p.Metadata.Status) }
func (p Pipeline) CanDelete() bool          { return CanDelete(p.Metadata.Status) }
func (p Pipeline) CanRepoint() bool         { return CanRepoint(p.Metadata.Status) }

func (o Outcome) String() string {
	switch o {
	case Changes:
		return "changes"
	case NoOp:
		return "no-op"
	case Refused:
		return "refused"
	}
	return "unknown"
}

// HoldsSlot reports whether a pipeline with this desired status claims its source's
// logical replication slot. A logical slot feeds one consumer, so at most one pipeline
// per slot may hold it. What counts is what the operator asked (START or REFRESH), not
// what Rosetta observed: a pipeline in ERROR whose desired status is still START keeps
// the slot, because the monitor returns it to RUNNING as soon as its source heals (and a
// failed start is retried by its operator); only pausing it lets another pipeline have
// the slot.
func HoldsSlot(desired string) bool { return desired == DesiredStart || desired == DesiredRefresh }

// Slot is the identity of a logical replication slot: the server, the database and the
// slot's name. Two sources with the same Slot are one slot, whatever their names.
type Slot struct {
	Host     string
	Port     int
	Database string
	Name     string
}

func slotOf(row db.Source) Slot {
	return Slot{Host: row.PgHost, Port: int(row.PgPort), Database: row.PgDatabase, Name: row.ReplicationID}
}

func (s Slot) String() string {
	return fmt.Sprintf("%q on %s:%d/%s", s.Name, s.Host, s.Port, s.Database)
}

// claimSlot is the one-consumer rule, asked before a start or refresh changes anything:
// it refuses (Conflict, naming the holder) when another pipeline holds the slot. With
// lock it first takes the slot's transaction-scoped lock, so two concurrent starts of
// two pipelines on one slot serialise on it: the second one's check sees the first
// one's committed START and is refused. Without lock it is the cheap early answer,
// before the preflight spends seconds on a start that cannot win.
func claimSlot(ctx context.Context, q *db.Queries, pipelineID int64, slot Slot, lock bool) error {
	if lock {
		if err := q.LockSlot(ctx, db.LockSlotParams{PgHost: slot.Host, PgPort: int32(slot.Port),
			PgDatabase: slot.Database, ReplicationID: slot.Name}); err != nil {
			return err
		}
	}
	holders, err := q.SlotConsumers(ctx, db.SlotConsumersParams{PipelineID: pipelineID, PgHost: slot.Host,
		PgPort: int32(slot.Port), PgDatabase: slot.Database, ReplicationID: slot.Name})
	if err != nil || len(holders) == 0 {
		return err
	}
	h := holders[0]
	via := fmt.Sprintf(" (source %q)", h.SourceName)
	return &apperr.Error{Code: apperr.Conflict,
		Related: []apperr.Ref{{Kind: KindPipeline, ID: h.ID, Name: h.Name}},
		Message: fmt.Sprintf("the replication slot %s is already used by pipeline %q (id %d)%s: a logical slot feeds one consumer, so pause that pipeline first",
			slot, h.Name, h.ID, via)}
}
