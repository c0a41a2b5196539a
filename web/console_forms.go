package web

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/rosetta-cdc/rosetta/internal/apperr"
	"github.com/rosetta-cdc/rosetta/internal/auth"
	"github.com/rosetta-cdc/rosetta/views/components"
	"github.com/rosetta-cdc/rosetta/views/layout"
	"github.com/rosetta-cdc/rosetta/views/pages"
	"github.com/rosetta-cdc/rosetta/views/partials"
)

// The console's entity forms. An input is named with the JSON name of the catalog
// input field it fills ("pg_host", "source_id"), so one mapping serves every entity
// and every direction: formInto reads a posted form into a catalog input or patch,
// formOf fills a form from a stored entity for its edit page, and a refused save puts
// the catalog's per-field messages beside the inputs of the same names. Adding a field
// to a form is adding it to the catalog's input (and patch) and to the templ form.

// entityForm describes one entity's form: its words, where it lives, and how it is
// drawn. The handlers of every entity share showForm and submitForm.
type entityForm struct {
	kind        string             // "Source": messages and titles
	plural      string             // "Sources": the first breadcrumb
	id          string             // element id of the form
	nav         string             // layout section
	list        string             // list URL; the form posts here to create
	url         func(int64) string // the entity's page; the form posts here to save
	description string             // under the title of a new one
	created     string             // the flash after "… created.", or ""
	// testWait, when set, offers "Test connection" on the form and says how long it can
	// wait for a silent server ("waits up to 5 s").
	testWait string
	// view draws the form; it may look things up (the pipeline form's choices).
	view func(c echo.Context, s *Server, f partials.Form, e *editing) (templ.Component, error)
}

// editing is the stored entity an edit form is about.
type editing struct {
	id        int64
	name      string
	secretSet bool // a secret is stored: blank keeps it
	// pastedKeySet: a destination's pasted private key is stored: blank keeps it.
	pastedKeySet bool
	// fixedRefs: the pipeline's source and destination cannot change now (running).
	fixedRefs bool
}

// staticView is a form view that needs nothing but the form.
func staticView(v func(partials.Form) templ.Component) func(echo.Context, *Server, partials.Form, *editing) (templ.Component, error) {
	return func(_ echo.Context, _ *Server, f partials.Form, _ *editing) (templ.Component, error) {
		return v(f), nil
	}
}

// form is the form around values: a new entity's, or e's.
func (ef entityForm) form(token string, v url.Values, e *editing) partials.Form {
	f := partials.Form{ID: ef.id, Action: ef.list, Values: v, CSRFToken: token,
		Submit: "Create " + strings.ToLower(ef.kind), Cancel: ef.list, TestWait: ef.testWait}
	if e != nil {
		f.Action, f.Cancel = ef.url(e.id), ef.url(e.id)
		f.Submit, f.Editing, f.SecretSet = "Save changes", true, e.secretSet
		f.PastedKeySet = e.pastedKeySet
	}
	return f
}

func (ef entityForm) crumbs(e *editing) []pages.Crumb {
	if e == nil {
		return []pages.Crumb{{Label: ef.plural, URL: ef.list}, {Label: "New " + strings.ToLower(ef.kind), URL: ef.list + "/new"}}
	}
	u := ef.url(e.id)
	return []pages.Crumb{{Label: ef.plural, URL: ef.list}, {Label: e.name, URL: u}, {Label: "Edit", URL: u + "/edit"}}
}

// showForm renders the form around values, as it is first shown (200) or refused
// (status, with f's messages set by fill).
func (s *Server) showForm(c echo.Context, ef entityForm, status int, v url.Values, e *editing, fill func(*partials.Form)) error {
	title, description := "New "+strings.ToLower(ef.kind), ef.description
	if e != nil {
		title, description = "Edit "+e.name, ""
	}
	meta := s.pageMeta(c, title, ef.nav)
	f := ef.form(meta.CSRFToken, v, e)
	if fill != nil {
		fill(&f)
	}
	view, err := ef.view(c, s, f, e)
	if err != nil {
		return err
	}
	return s.formPage(c, status, meta, ef.crumbs(e), description, view)
}

// submitForm handles a posted form: save maps it to the catalog and saves it. A
// refusal the form can show (invalid fields, a conflict) re-renders it with the
// messages and what was typed, secrets excepted; any other error goes to the error
// handler; success flashes and redirects to the entity's page.
func (s *Server) submitForm(c echo.Context, ef entityForm, e *editing,
	save func(v url.Values) (id int64, name string, notes []layout.Flash, err error),
	test func(v url.Values) (partials.FormTest, error)) error {
	v, err := formValues(c)
	if err != nil {
		return err
	}
	if v.Get("action") == "test" && test != nil {
		return s.testForm(c, ef, e, v, test)
	}
	id, name, notes, err := save(v)
	if err != nil {
		return s.refusedForm(c, ef, e, v, err)
	}
	done := ef.kind + " " + quoted(name) + " saved."
	if e == nil {
		done = strings.TrimSpace(ef.kind + " " + quoted(name) + " created. " + ef.created)
	}
	s.setFlash(c, components.FlashSuccess, done)
	for _, n := range notes {
		s.setFlashLinks(c, n)
	}
	return redirect(c, ef.url(id))
}

// refusedForm shows the form again after a refusal it can show (invalid fields, a
// conflict), with the messages and what was typed, secrets excepted; any other error
// goes to the error handler.
func (s *Server) refusedForm(c echo.Context, ef entityForm, e *editing, v url.Values, err error) error {
	fields, msg, status, ok := formErrors(err)
	if !ok {
		return err
	}
	if IsFragmentRequest(c.Request()) {
		// The test button targets its results region; messages go beside the fields.
		c.Response().Header().Set("HX-Retarget", "#"+ef.id)
		c.Response().Header().Set("HX-Reswap", "outerHTML")
	}
	return s.showForm(c, ef, status, withoutSecrets(v), e, func(f *partials.Form) {
		f.Errors, f.Message = fields, msg
	})
}

// testForm is "Test connection" on a form: the checks run on what is typed, nothing is
// saved. htmx gets the results region alone (the form, with the password typed into it,
// stays); a plain POST gets the form again with the results and what was typed (secrets
// excepted, as after any refusal).
func (s *Server) testForm(c echo.Context, ef entityForm, e *editing, v url.Values,
	test func(v url.Values) (partials.FormTest, error)) error {
	res, err := test(v)
	if err != nil {
		return s.refusedForm(c, ef, e, v, err)
	}
	if IsFragmentRequest(c.Request()) {
		f := ef.form("", v, e)
		f.Test = &res
		frag := partials.FormTestResults(f)
		return Render(c, http.StatusOK, frag, frag)
	}
	return s.showForm(c, ef, http.StatusOK, withoutSecrets(v), e, func(f *partials.Form) { f.Test = &res })
}

// entityHandlers are one entity's console form handlers (new, create, edit, update,
// delete) around its catalog methods; the entity files say only what is theirs.
type entityHandlers[E, In, P any] struct {
	form    entityForm
	get     func(context.Context, int64) (E, error)
	create  func(context.Context, In) (E, error)
	update  func(context.Context, int64, P) (E, error)
	del     func(context.Context, int64) error
	editing func(E) *editing // the stored entity as its edit form needs it (id and name included)
	// blank are a new form's values (nil: empty).
	blank func(echo.Context) url.Values
	// stored are the edit form's values of e, when they are not simply formOf.
	stored func(e E, v url.Values)
	// fixInput and fixPatch read what the field mapping cannot (nil: nothing; fixPatch
	// also sees the stored entity, to tell a value shown back from one typed): a blank
	// password keeps the stored one, a cleared port is the default…
	fixInput func(*In, url.Values)
	fixPatch func(*P, url.Values, E)
	// testNew and testEdit run the entity's checks on an unsaved form (nil: the form
	// has no "Test connection").
	testNew  func(context.Context, In) (partials.FormTest, error)
	testEdit func(context.Context, int64, P) (partials.FormTest, error)
	// refs turn what a form names into what the catalog input takes (nil: nothing): the
	// values to read the input from, and messages to put in place of the catalog's for
	// the same fields if it refuses (the pipeline form's source typed by name).
	refs func(context.Context, url.Values) (url.Values, apperr.Fields, error)
	// notes are what a save accepted but the operator should read (a source sharing
	// another's slot), flashed after the save's own message (nil: none).
	notes func(E) []layout.Flash
}

func (h entityHandlers[E, In, P]) notesOf(x E) []layout.Flash {
	if h.notes == nil {
		return nil
	}
	return h.notes(x)
}

func (h entityHandlers[E, In, P]) newForm(s *Server, c echo.Context) error {
	v := url.Values{}
	if h.blank != nil {
		v = h.blank(c)
	}
	return s.showForm(c, h.form, http.StatusOK, v, nil, nil)
}

func (h entityHandlers[E, In, P]) createForm(s *Server, c echo.Context) error {
	return s.submitForm(c, h.form, nil, func(v url.Values) (int64, string, []layout.Flash, error) {
		v, msgs, err := h.resolve(ctxOf(c), v)
		if err != nil {
			return 0, "", nil, err
		}
		x, err := h.create(ctxOf(c), h.input(v))
		if err != nil {
			return 0, "", nil, withFieldMessages(err, msgs)
		}
		e := h.editing(x)
		return e.id, e.name, h.notesOf(x), nil
	}, h.testNewOf(c))
}

func (h entityHandlers[E, In, P]) testNewOf(c echo.Context) func(url.Values) (partials.FormTest, error) {
	if h.testNew == nil {
		return nil
	}
	return func(v url.Values) (partials.FormTest, error) { return h.testNew(ctxOf(c), h.input(v)) }
}

// resolve is v as the catalog input reads it (h.refs), and the messages for what it
// could not resolve.
func (h entityHandlers[E, In, P]) resolve(ctx context.Context, v url.Values) (url.Values, apperr.Fields, error) {
	if h.refs == nil {
		return v, nil, nil
	}
	return h.refs(ctx, v)
}

// input is a new entity's form as the catalog input.
func (h entityHandlers[E, In, P]) input(v url.Values) In {
	var in In
	formInto(v, &in)
	if h.fixInput != nil {
		h.fixInput(&in, v)
	}
	return in
}

// patch is an edit form as the catalog patch of cur.
func (h entityHandlers[E, In, P]) patch(v url.Values, cur E) P {
	var patch P
	formInto(v, &patch)
	if h.fixPatch != nil {
		h.fixPatch(&patch, v, cur)
	}
	return patch
}

// load is the entity the path names.
func (h entityHandlers[E, In, P]) load(c echo.Context) (E, error) {
	id, err := pathID(c)
	if err != nil {
		var zero E
		return zero, err
	}
	return h.get(ctxOf(c), id)
}

func (h entityHandlers[E, In, P]) editForm(s *Server, c echo.Context) error {
	x, err := h.load(c)
	if err != nil {
		return err
	}
	var in In
	v := formOf(x, in)
	if h.stored != nil {
		h.stored(x, v)
	}
	return s.showForm(c, h.form, http.StatusOK, v, h.editing(x), nil)
}

func (h entityHandlers[E, In, P]) updateForm(s *Server, c echo.Context) error {
	cur, err := h.load(c)
	if err != nil {
		return err
	}
	e := h.editing(cur)
	return s.submitForm(c, h.form, e, func(v url.Values) (int64, string, []layout.Flash, error) {
		v, msgs, err := h.resolve(ctxOf(c), v)
		if err != nil {
			return 0, "", nil, err
		}
		x, err := h.update(ctxOf(c), e.id, h.patch(v, cur))
		if err != nil {
			return 0, "", nil, withFieldMessages(err, msgs)
		}
		saved := h.editing(x)
		return saved.id, saved.name, h.notesOf(x), nil
	}, h.testEditOf(c, cur, e.id))
}

func (h entityHandlers[E, In, P]) testEditOf(c echo.Context, cur E, id int64) func(url.Values) (partials.FormTest, error) {
	if h.testEdit == nil {
		return nil
	}
	return func(v url.Values) (partials.FormTest, error) { return h.testEdit(ctxOf(c), id, h.patch(v, cur)) }
}

func (h entityHandlers[E, In, P]) deleteForm(s *Server, c echo.Context) error {
	return s.deleteEntity(c, h.form.kind, h.form.url, h.form.list,
		func(ctx context.Context, id int64) (string, error) {
			x, err := h.get(ctx, id)
			if err != nil {
				return "", err
			}
			return h.editing(x).name, nil
		}, h.del)
}

// withoutSecrets drops secret inputs (auth.IsSecretName: a password, a passphrase) and
// the CSRF token from submitted values before they are rendered back: a refused form
// never echoes a secret.
func withoutSecrets(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if !auth.IsSecretName(k) && k != components.CSRFFieldName {
			out[k] = vs
		}
	}
	return out
}

// formName is the input name of a struct field: its JSON name ("" for none).
func formName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

// formInto fills the catalog input or patch dst points to from posted values, field by
// JSON name. Text is taken as typed (the catalog trims and validates it); a pointer
// field is "given" only when the form has that input, so a patch never clears a field
// the form does not show. Numbers that do not parse become 0, which the catalog
// reports beside the field with every other bad field (see formInt, formID).
func formInto(v url.Values, dst any) {
	rv := reflect.ValueOf(dst).Elem()
	for i := range rv.NumField() {
		name := formName(rv.Type().Field(i))
		if name == "" {
			continue
		}
		fv := rv.Field(i)
		switch p := fv.Addr().Interface().(type) {
		case *string:
			*p = v.Get(name)
		case **string:
			if v.Has(name) {
				*p = strPtr(v, name)
			}
		case **int:
			*p = formInt(v, name)
		case *int64:
			*p = formID(v, name)
		case **int64:
			if v.Has(name) {
				id := formID(v, name)
				*p = &id
			}
		default:
			// A field type no form can fill yet: caught by the form tests, which post
			// every entity's form.
			panic("web: form field " + name + " has an unsupported type " + fv.Type().String())
		}
	}
}

// formOf is the form of a stored entity, for its edit page: the value of every input of
// input's type (a catalog input struct), read from entity by the same JSON name.
// Secrets are never read back, whatever entity holds.
func formOf(entity, input any) url.Values {
	names := map[string]bool{}
	it := reflect.TypeOf(input)
	for i := range it.NumField() {
		if n := formName(it.Field(i)); n != "" && !auth.IsSecretName(n) {
			names[n] = true
		}
	}
	out := url.Values{}
	ev := reflect.ValueOf(entity)
	for i := range ev.NumField() {
		n := formName(ev.Type().Field(i))
		if !names[n] {
			continue
		}
		switch x := ev.Field(i).Interface().(type) {
		case string:
			out.Set(n, x)
		case *string:
			if x != nil {
				out.Set(n, *x)
			}
		case int:
			out.Set(n, strconv.Itoa(x))
		case int64:
			out.Set(n, strconv.FormatInt(x, 10))
		}
	}
	return out
}
