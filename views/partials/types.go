package partials

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
)

// Ids of the list sections: each is the element its list handler returns as the htmx
// fragment (wrapper included), and the target of its search, sort and page links.
const (
	SourcesListID      = "sources-list"
	DestinationsListID = "destinations-list"
	PipelinesListID    = "pipelines-list"
	WALListID          = "wal-list"
)

// PipelinesFilterID is the pipelines list's search and filter form.
const PipelinesFilterID = "pipelines-filter"

// ListState is a list's controls as the request gave them, for links and forms that
// keep them (search keeps the sort, paging keeps the search).
type ListState struct {
	Q           string
	Sort        string // "" when the request gave none (or an unknown one)
	DefaultSort string
	Limit       string // "" = default page size
	BaseURL     string // the request's path and query
}

// CurrentSort is the order the list is shown in.
func (l ListState) CurrentSort() string {
	if l.Sort == "" {
		return l.DefaultSort
	}
	return l.Sort
}

// Orders a list's sort select offers (see listControls): the orders of the table's
// sortable headers, both ways where the header toggles, one way where it does not (the
// pipelines' status sorts errors first). Values are the catalog's sort keys.
var (
	sourceSortOptions = []components.Option{
		{Value: "name", Label: "Name A–Z"}, {Value: "-name", Label: "Name Z–A"},
		{Value: "host", Label: "Server A–Z"}, {Value: "-host", Label: "Server Z–A"},
		{Value: "-created_at", Label: "Newest first"}, {Value: "created_at", Label: "Oldest first"},
	}
	destinationSortOptions = []components.Option{
		{Value: "name", Label: "Name A–Z"}, {Value: "-name", Label: "Name Z–A"},
		{Value: "account", Label: "Account A–Z"}, {Value: "-account", Label: "Account Z–A"},
		{Value: "-created_at", Label: "Newest first"}, {Value: "created_at", Label: "Oldest first"},
	}
	pipelineSortOptions = []components.Option{
		{Value: "name", Label: "Name A–Z"}, {Value: "-name", Label: "Name Z–A"},
		{Value: "status", Label: "Errors first"},
		{Value: "-created_at", Label: "Newest first"}, {Value: "created_at", Label: "Oldest first"},
	}
)

// sortOptions are the choices of a list's sort select. The current order is always one
// of them, even one the list accepts but offers no header for (/wal?sort=-created_at),
// so the select never silently changes the order on the next search.
func (l ListState) sortOptions(opts []components.Option) []components.Option {
	cur := l.CurrentSort()
	for _, o := range opts {
		if o.Value == cur {
			return opts
		}
	}
	label := cur
	for _, list := range [][]components.Option{sourceSortOptions, destinationSortOptions, pipelineSortOptions} {
		for _, o := range list {
			if o.Value == cur {
				label = o.Label
			}
		}
	}
	return append(slices.Clone(opts), components.Option{Value: cur, Label: label})
}

func (l ListState) sortColumn(key, label, target, class string) components.SortColumn {
	return components.SortColumn{Key: key, Label: label, Current: l.CurrentSort(), BaseURL: l.BaseURL,
		Target: "#" + target, Class: class}
}

// pager is the list's pagination; a page's total may be an estimate (catalog.Page).
func (l ListState) pager(total int64, estimate bool, limit, offset int, target, label string) components.Pager {
	return components.Pager{Total: int(total), Estimate: estimate, Limit: limit, Offset: offset, BaseURL: l.BaseURL,
		Target: "#" + target, Label: label}
}

// FilterForm is the search (and filter) form above a list. It lives outside the list
// section, so typing is never interrupted by a swap; the list section carries the
// current sort (a select, shown on phones) and page size as controls bound to this form
// (form="…"), see listControls.
type FilterForm struct {
	ID          string // form id, e.g. "sources-filter"
	Action      string // the list URL, e.g. "/sources"
	Target      string // the list section id
	Label       string // accessible name of the search box, e.g. "Search sources by name"
	Placeholder string
	Q           string
	Filtered    bool // show the "Clear" link
}

// SourceList is the sources list section.
type SourceList struct {
	Page  catalog.Page[catalog.Source]
	State ListState
}

// DestinationList is the destinations list section.
type DestinationList struct {
	Page  catalog.Page[catalog.Destination]
	State ListState
}

// PipelineFilters are the pipeline list's filters as requested.
type PipelineFilters struct {
	Status        string
	RuntimeStatus string
	Source        RefFilter
	Destination   RefFilter
}

// RefFilter is the pipeline list's source (or destination) filter. The page never lists
// the fleet's names: the field takes a name (typed, or picked from the suggestions the
// options endpoint returns as one types), and the server matches it exactly,
// case-insensitive. A link or bookmark may still say ?source_id=.
type RefFilter struct {
	ID   string // ?source_id= as requested, "" when filtered by name
	Name string // shown in the field: the entity's name, or what was typed when none has it
	// Error says, beside the field, that the filter matches no source (destination), so
	// an empty list is never mistaken for "no pipelines" and a typo never shows everything.
	Error string
}

func (r RefFilter) set() bool { return r.ID != "" || r.Name != "" }

// Any reports whether a filter narrows the list.
func (f PipelineFilters) Any() bool {
	return f.Status != "" || f.RuntimeStatus != "" || f.Source.set() || f.Destination.set()
}

// Ref filter names: the query parameter (and form field) of each, and the options
// endpoint that suggests names for it.
const (
	SourceFilter      = "source"
	DestinationFilter = "destination"
)

// RefFilterID is the id of the pipelines filter's source (destination) field; its
// suggestions, error and options derive their ids from it.
func RefFilterID(name string) string { return PipelinesFilterID + "-" + name }

// RefOptionsURL is the endpoint that suggests names for the filter field name.
func RefOptionsURL(name string) string { return "/pipelines/filter/" + name + "s" }

// RefSuggestionsLimit bounds the names one suggestion answer carries: enough to pick
// from, few enough that the answer stays small at any fleet size.
const RefSuggestionsLimit = 20

// RefSuggestions is an answer of the options endpoint: the names containing Text.
type RefSuggestions struct {
	Field string // SourceFilter or DestinationFilter
	Text  string
	Names []catalog.Named
	More  bool // more names match than Names holds
}

// PipelineList is the pipelines list section.
type PipelineList struct {
	Page    catalog.Page[catalog.Pipeline]
	State   ListState
	Filters PipelineFilters
	Row     RowContext
}

// RowContext is what a pipeline row needs besides the pipeline.
type RowContext struct {
	CSRFToken string
	// Access is the signed-in user's (layout.PageMeta.Access): a button is shown only
	// for an action the permission table lets them take.
	Access layout.Access
	// Next is where a plain (no-JavaScript) action form returns to.
	Next string
	// Focus puts the keyboard on the row's first button after an in-place update, so a
	// keyboard user who pressed Start lands on Pause.
	Focus bool

	// What every row of a list shares, worked out once per page by forList rather than
	// per row and form: the hidden inputs of the action forms (CSRF token, next), which
	// actions the user may take (catalog.Actions order).
	fields *components.Prerendered
	may    []bool
	now    time.Time // the clock, read once: rows' times are relative to it
	// stamps are the page's row stamps by state (desired × runtime status), taken from
	// rowStamps as the page first needs each.
	stamps   []*components.Stamp
	prepared bool
	// standIn: this renders the stand-in's row a list stamps its rows from (stamp.go).
	standIn bool
}

// forList works out what every row of a list shares (see RowContext), once.
func (rc RowContext) forList() RowContext {
	if rc.prepared {
		return rc
	}
	rc.fields = rc.hiddenFields()
	rc.may = make([]bool, len(catalog.Actions))
	for i, a := range catalog.Actions {
		rc.may[i] = rc.May(ActionRoute(a))
	}
	rc.now = now()
	rc.stamps = make([]*components.Stamp, len(catalog.DesiredStatuses)*len(catalog.RuntimeStatuses))
	rc.prepared = true
	return rc
}

// hiddenFields are the hidden inputs of the row's action forms.
func (rc RowContext) hiddenFields() *components.Prerendered {
	if rc.fields != nil {
		return rc.fields
	}
	return components.NewHiddenFields(rc.CSRFToken, rc.Next)
}

// mayAction reports whether the user may take a (see May).
func (rc RowContext) mayAction(a catalog.Action) bool {
	if rc.prepared {
		for i, b := range catalog.Actions {
			if b == a {
				return rc.may[i]
			}
		}
		return false
	}
	return rc.May(ActionRoute(a))
}

// May reports whether the user may call route; see layout.PageMeta.May.
func (rc RowContext) May(route string) bool { return rc.Access != nil && rc.Access(route) }

// ActionRoute is the console route of a pipeline action, as the permission table names it.
func ActionRoute(a catalog.Action) string { return "POST /pipelines/:id/" + string(a) }

// MayAct reports whether the user may take any pipeline action (the actions column).
func (rc RowContext) MayAct() bool {
	for _, a := range catalog.Actions {
		if rc.mayAction(a) {
			return true
		}
	}
	return false
}

// offered are the buttons of p: the actions the catalog allows in its state that the
// user may take.
func (rc RowContext) offered(p catalog.Pipeline) []catalog.Action {
	allowed := p.AllowedActions()
	out := allowed[:0] // AllowedActions returns a new slice: filter it in place
	for _, a := range allowed {
		if rc.mayAction(a) {
			out = append(out, a)
		}
	}
	return out
}

// actionLabel and actionClass present the actions the catalog allows (see
// catalog.AllowedActions); which ones a pipeline offers is the catalog's to say.
func actionLabel(p catalog.Pipeline, action catalog.Action) string {
	switch action {
	case catalog.ActionStart:
		if p.Metadata.Status == catalog.RuntimeError {
			return "Retry start"
		}
		return "Start"
	case catalog.ActionPause:
		return "Pause"
	default:
		return "Refresh"
	}
}

func actionClass(action catalog.Action) string {
	switch action {
	case catalog.ActionStart:
		return ""
	case catalog.ActionPause:
		return "secondary"
	default:
		return "secondary outline"
	}
}

// ActionConfirm is the confirmation of an action that costs, ok false for one that
// needs none (start). Refresh reloads everything; pause leaves the slot retaining WAL.
// The pipeline's buttons and the no-JavaScript confirmation page (GET …/refresh) both
// show it.
func ActionConfirm(p catalog.Pipeline, a catalog.Action, csrf, next string) (components.Confirm, bool) {
	c, ok := actionConfirm(p, a, PipelineURL(p.ID)+"/"+string(a))
	c.CSRFToken, c.Next = csrf, next
	return c, ok
}

// actionConfirm is ActionConfirm posting to url, without hidden inputs (the row's
// buttons give their shared ones, see withHTMX).
func actionConfirm(p catalog.Pipeline, a catalog.Action, url string) (components.Confirm, bool) {
	c := components.Confirm{Name: string(a), Action: url}
	switch a {
	case catalog.ActionRefresh:
		c.Summary, c.Button = "Refresh…", "Refresh now"
		c.Question = "Refresh pipeline “" + p.Name + "”?"
		c.Consequence = "It re-syncs from a fresh snapshot: every published table is copied from the source and loaded into Snowflake again, " +
			"which takes time, load on the source and warehouse credits on large tables."
	case catalog.ActionPause:
		c.Summary, c.Button = "Pause…", "Pause now"
		c.Question = "Pause pipeline “" + p.Name + "”?"
		c.Consequence = "Changes stop flowing to Snowflake, but the replication slot on the source keeps retaining WAL until the pipeline " +
			"is resumed: a long pause can fill the source's disk."
	default:
		return c, false
	}
	return c, true
}

// withHTMX makes a pipeline action's confirmation post in place, as the plain action
// forms of pipelineActionButtons do, its button named like theirs. An empty target
// leaves the swap to the list's <tbody> (see PipelineTable).
func withHTMX(c components.Confirm, fields *components.Prerendered, target, buttonID string, a catalog.Action, focus bool) components.Confirm {
	c.HXPost, c.HXTarget, c.Fields = c.Action, target, fields
	c.ButtonID, c.DataAction = buttonID, string(a)
	c.Focus = focus
	return c
}

// PipelineRowID is the id of a pipeline's table row; an action posted from the row
// targets it.
func PipelineRowID(id int64) string { return "pipeline-" + strconv.FormatInt(id, 10) }

// PipelineStatusID is the id of the status panel on a pipeline's page; an action posted
// from the page targets it.
func PipelineStatusID(id int64) string { return "pipeline-" + strconv.FormatInt(id, 10) + "-status" }

// PipelineURL, SourceURL and DestinationURL are the entities' console pages.
func PipelineURL(id int64) string    { return "/pipelines/" + strconv.FormatInt(id, 10) }
func SourceURL(id int64) string      { return "/sources/" + strconv.FormatInt(id, 10) }
func DestinationURL(id int64) string { return "/destinations/" + strconv.FormatInt(id, 10) }

// PipelineStatus is the status panel of a pipeline's page.
type PipelineStatus struct {
	Pipeline catalog.Pipeline
	Row      RowContext
	// Checks are the preflight results of the action just taken, shown under the status.
	Checks []pgsource.Check
	// Source and RecentWAL fill the page's slot panel (the full page only; the status
	// fragment an action returns leaves them empty).
	Source    *catalog.Source
	RecentWAL []catalog.WALSample
	// WAL is the source's last 24 hours, charted (the full page only).
	WAL *PipelineWAL
}

// SourceChecks is the "Test connection" result region of a source's page.
type SourceChecks struct {
	SourceID int64
	Checks   []pgsource.Check
	Ran      bool // the test ran (an empty Checks then means the source answered nothing)
}

// SourceChecksID is the id of a source page's check results region.
func SourceChecksID(id int64) string { return "source-" + strconv.FormatInt(id, 10) + "-checks" }

// Checks converts preflight results for components.CheckResults.
func Checks(in []pgsource.Check) []components.Check {
	out := make([]components.Check, len(in))
	for i, c := range in {
		out[i] = components.Check{Name: CheckTitle(c.Name), Status: string(c.Status), Message: c.Message}
	}
	return out
}

// CheckTitle names a check in words.
func CheckTitle(name string) string {
	if t, ok := destinationCheckTitle(name); ok {
		return t
	}
	switch name {
	case pgsource.CheckConnection:
		return "Connection"
	case pgsource.CheckWALLevel:
		return "wal_level"
	case pgsource.CheckPublication:
		return "Publication"
	case pgsource.CheckReplicationRole:
		return "Replication privilege"
	case pgsource.CheckReplicationSlot:
		return "Replication slot"
	}
	return name
}

// Form is an entity form: what was typed (or stored), the messages of a refused save,
// and where it posts.
type Form struct {
	ID        string // element id; the htmx fragment a 422 replaces
	Action    string // POST URL
	Values    url.Values
	Errors    map[string]string
	Message   string // about the form as a whole (a conflict), shown above the fields
	CSRFToken string
	Submit    string // button label
	Cancel    string // URL of the page the form came from
	Editing   bool
	// SecretSet: a secret (password, passphrase) is stored; blank keeps it.
	SecretSet bool
	// WALAlertDefault is the configured retention threshold (WAL_RETENTION_ALERT_BYTES),
	// the source form's placeholder for its threshold field.
	WALAlertDefault int64
	// PastedKeySet: a destination's pasted private key is stored; blank keeps it.
	PastedKeySet bool
	// TestWait, when set, offers "Test connection" beside the submit button: it runs the
	// checks on what is typed without saving, and this says how long a silent server can
	// keep it waiting ("up to 5 s").
	TestWait string
	// Test holds the results of that test, when it just ran.
	Test *FormTest
}

// FormTest is the outcome of "Test connection" on an unsaved form.
type FormTest struct {
	Checks      []pgsource.Check
	Fingerprint string // a destination key's fingerprint, when it could be read
}

// WaitsUpTo says how long a check can wait for a server that never answers ("waits up
// to 5 s"), from the timeout that bounds it.
func WaitsUpTo(d time.Duration) string { return fmt.Sprintf("waits up to %d s", int(d.Seconds())) }

// FormTestID is the id of a form's test results region, the htmx target of its test button.
func FormTestID(formID string) string { return formID + "-test" }

// testButtonAttrs make "Test connection" an htmx request of its own that swaps only the
// results region, so the form (and the password typed into it) stays as it is.
func testButtonAttrs(f Form) templ.Attributes {
	return templ.Attributes{
		"hx-post":         f.Action,
		"hx-target":       "#" + FormTestID(f.ID),
		"hx-swap":         "outerHTML",
		"hx-vals":         `{"action": "test"}`,
		"hx-disabled-elt": "this",
	}
}

// thresholdField is the source form's retention threshold: blank (or 0) = the default.
func (f Form) thresholdField() components.Field {
	def := strconv.FormatInt(f.WALAlertDefault, 10)
	fl := f.help(f.Field("wal_alert_threshold_bytes", "WAL retention alert (bytes)"),
		"Flag the source when its slot retains more WAL than this. Empty or 0: the configured default, "+
			Bytes(f.WALAlertDefault)+" ("+def+" bytes).")
	return withAttrs(fl, "min", "0", "step", "1", "placeholder", def)
}

// Field builds a components.Field for name from the form's values and messages.
func (f Form) Field(name, label string) components.Field {
	return components.Field{Name: name, Label: label, Value: f.Values.Get(name), Error: FieldMessage(label, f.Errors[name])}
}

// FieldMessage makes a sentence of a field's message, which is a clause about the field
// ("is required", "must be between 1 and 65535"): "Port must be between 1 and 65535."
// Every form's messages go through it (entity forms, tokens, users, password), so they
// all name their field the same way.
func FieldMessage(label, msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	for _, verb := range []string{"is ", "must ", "refers ", "should ", "cannot ", "may "} {
		if strings.HasPrefix(msg, verb) {
			msg = label + " " + msg
			break
		}
	}
	if r, n := utf8.DecodeRuneInString(msg); unicode.IsLower(r) {
		msg = string(unicode.ToUpper(r)) + msg[n:]
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

func (f Form) required(name, label string) components.Field {
	fl := f.Field(name, label)
	fl.Required = true
	return fl
}

func (f Form) help(fl components.Field, help string) components.Field {
	fl.Help = help
	return fl
}

// formAttrs makes the form an htmx request that replaces the form itself: a 422
// re-renders it with messages; success answers HX-Redirect.
func formAttrs(f Form) templ.Attributes {
	return templ.Attributes{
		"hx-post":         f.Action,
		"hx-target":       "this",
		"hx-swap":         "outerHTML",
		"hx-disabled-elt": "find button[type=submit]",
	}
}

// PipelineForm is the pipeline form. Its source and destination are names, typed (or
// picked from the suggestions) into a combobox: a page carries no list of the fleet,
// and every source is as easy to reach as the first.
type PipelineForm struct {
	Form
	// NoSources and NoDestinations: none is registered yet, so the form says where to
	// start.
	NoSources, NoDestinations bool
	// Running: the source and destination cannot change until the pipeline is paused.
	Running bool
}

// refField is the pipeline form's source (destination) combobox, name: the name typed,
// which the server resolves to the idField the catalog takes (web.pipelineRefs). Its
// name is the list filter's, so both ask the same suggestions endpoint (RefOptionsURL),
// which reads the field's own name=value. The messages are the catalog's about idField
// (and a name nobody has, put there by the server): for the operator, they are about
// the name typed.
func (f PipelineForm) refField(name, idField, label, help string) components.Field {
	fl := f.required(name, label)
	fl.Error = FieldMessage(label, f.Errors[idField])
	fl.Help = refHelp(f.Running, help)
	fl.Placeholder = "Type a name…"
	fl.Attrs = templ.Attributes{"maxlength": "100"}
	return fl
}

// RefShown is the pipeline form's record of the entity a ref field showed (refShown).
type RefShown struct {
	IDField, ID, ShownField, Shown string
}

// RefShownField is the form field carrying the name a ref field (SourceFilter,
// DestinationFilter) showed.
func RefShownField(name string) string { return name + "_shown" }

// refShown is what the form's ref field name showed and the id it stood for. A form
// made from an entity (an edit, ?source_id=) has both; a form shown again after a
// refusal carries on the pair it was posted with, never the name typed since, so that
// an edited name is always looked up. A name with no id (typed on a new form) records
// nothing.
func (f PipelineForm) refShown(name, idField string) RefShown {
	id := f.Values.Get(idField)
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n < 1 {
		return RefShown{}
	}
	r := RefShown{IDField: idField, ID: id, ShownField: RefShownField(name), Shown: f.Values.Get(name)}
	if f.Values.Has(r.ShownField) {
		r.Shown = f.Values.Get(r.ShownField)
	}
	return r
}

// RelatedURL is the console page of a related entity.
func RelatedURL(kind string, id int64) string {
	switch kind {
	case catalog.KindPipeline:
		return PipelineURL(id)
	case catalog.KindSource:
		return SourceURL(id)
	case catalog.KindDestination:
		return DestinationURL(id)
	}
	return fmt.Sprintf("/%ss/%d", kind, id)
}

// withAttrs adds attributes to a field; placeholder and autocomplete go to their own
// Field members so the input never carries an attribute twice.
func withAttrs(f components.Field, kv ...string) components.Field {
	attrs := templ.Attributes{}
	for k, v := range f.Attrs {
		attrs[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		switch kv[i] {
		case "placeholder":
			f.Placeholder = kv[i+1]
		case "autocomplete":
			f.Autocomplete = kv[i+1]
		default:
			attrs[kv[i]] = kv[i+1]
		}
	}
	f.Attrs = attrs
	return f
}

// secretHelp is the hint under a secret's field: how to keep the stored one, or what
// happens to a new one.
// sourcePasswordHelp says, beside the password field of a source being edited, that a
// changed endpoint needs the password again (the catalog refuses the change otherwise).
func sourcePasswordHelp(f Form) string {
	if f.SecretSet {
		return "A password is stored. Leave blank to keep it; type a new one to replace it. " +
			"Changing the host, port, database or user requires entering it again: a stored password is only sent to the server it was entered for."
	}
	return "Stored encrypted; never shown again."
}

const (
	tlsModeHelp = "Like libpq's sslmode. Only verify-full proves the server is the one named in Host; " +
		"prefer and require encrypt without checking the certificate. Whatever the mode, Rosetta never sends the password in cleartext without TLS."
	caCertHelp = "For verify-ca and verify-full: the PEM certificate(s) of the CA that signed the server's certificate. " +
		"Leave blank to trust the system's CAs."
)

// TLSModeOptions are the source TLS modes, from the one list in pgsource.
func TLSModeOptions() []components.Option {
	labels := map[pgsource.TLSMode]string{
		pgsource.TLSDisable:    "disable: never use TLS",
		pgsource.TLSPrefer:     "prefer: TLS when the server offers it, unverified",
		pgsource.TLSRequire:    "require: always TLS, unverified",
		pgsource.TLSVerifyCA:   "verify-ca: TLS, certificate signed by a trusted CA",
		pgsource.TLSVerifyFull: "verify-full: TLS, trusted CA and matching host name",
	}
	out := make([]components.Option, len(pgsource.TLSModes))
	for i, m := range pgsource.TLSModes {
		out[i] = components.Option{Value: string(m), Label: labels[m]}
	}
	return out
}

func secretHelp(stored bool, fresh string) string {
	if stored {
		return "A secret is stored. Leave blank to keep it; type a new one to replace it."
	}
	return fresh
}

func hostHelp(f Form) string {
	if acct := f.Values.Get("snowflake_account"); acct != "" {
		return "Optional: " + catalog.DefaultSnowflakeHost(acct) + " otherwise."
	}
	return "Optional: <account>.snowflakecomputing.com otherwise."
}

func refHelp(running bool, help string) string {
	if running {
		return help + " Pause the pipeline to change it."
	}
	return help
}

// reloadsList is what makes a field of a list's search form reload the list in place
// when trigger fires: the list section is replaced, the URL follows, the form's fields
// (scope: "closest form", or "#id" for a field outside the form) go along, and a newer
// reload replaces one still in flight. The search box, the filters and the sort select
// all say it here, once.
func reloadsList(form FilterForm, trigger, scope string) templ.Attributes {
	return templ.Attributes{
		"hx-get":      form.Action,
		"hx-trigger":  trigger,
		"hx-target":   "#" + form.Target,
		"hx-swap":     "outerHTML",
		"hx-push-url": "true",
		"hx-include":  scope,
		"hx-sync":     scope + ":replace",
	}
}

// withAttr is a with name set to value (a is modified and returned).
func withAttr(a templ.Attributes, name string, value any) templ.Attributes {
	a[name] = value
	return a
}
