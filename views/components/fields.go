package components

import "github.com/a-h/templ"

// Field describes one labelled form control. The same struct feeds TextField,
// NumberField, PasswordField and SelectField, so a handler can build a form's fields from
// the submitted values plus the per-field messages of a 422 and render it again.
type Field struct {
	Name         string // form field name; also the id, unless ID is set
	Label        string
	Value        string // what the user typed; ignored by PasswordField
	Error        string // message shown beside the field; non-empty marks it aria-invalid
	Help         string // hint shown under the field
	ID           string // element id; default "field-" + Name
	Type         string // TextField only: "text" (default), "email", "url", "search", "tel"
	Required     bool
	Placeholder  string
	Autocomplete string           // e.g. "username", "current-password", "off"
	Attrs        templ.Attributes // extra input attributes: min, max, pattern, autofocus, hx-*…
}

// Option is one choice of a SelectField.
type Option struct {
	Value    string
	Label    string
	Disabled bool
}

func (f Field) id() string {
	if f.ID != "" {
		return f.ID
	}
	return "field-" + f.Name
}

func (f Field) listboxID() string { return f.id() + "-options" }
func (f Field) errorID() string   { return f.id() + "-error" }
func (f Field) helpID() string    { return f.id() + "-help" }

func (f Field) inputType() string {
	switch f.Type {
	case "email", "url", "search", "tel":
		return f.Type
	default:
		return "text"
	}
}

// describedBy ties the error (first, so it is read first) and the hint to the control.
func describedBy(f Field, help string) string {
	ids := ""
	if f.Error != "" {
		ids = f.errorID()
	}
	if help != "" {
		if ids != "" {
			ids += " "
		}
		ids += f.helpID()
	}
	return ids
}

// secretHelp is the hint under a password field whose secret is already stored.
const secretHelp = "Leave blank to keep the stored value."

// secretField prepares a PasswordField: it never carries a value, and when a secret is
// already stored, blank means "keep it", so the field is not required.
func secretField(f Field, stored bool) Field {
	f.Value = ""
	f.Attrs = attrsWithout(f.Attrs, "value", "type")
	if f.Autocomplete == "" {
		// Keeps browsers from filling in the operator's own console password.
		f.Autocomplete = "new-password"
	}
	if stored {
		f.Required = false
		if f.Placeholder == "" {
			f.Placeholder = "unchanged"
		}
		if f.Help == "" {
			f.Help = secretHelp
		}
	}
	return f
}

// attrsWithout drops keys a caller must not override on a secret field.
func attrsWithout(attrs templ.Attributes, keys ...string) templ.Attributes {
	if len(attrs) == 0 {
		return nil
	}
	out := make(templ.Attributes, len(attrs))
	for k, v := range attrs {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// comboboxInput gives a ComboboxField's input the combobox's roles and states (the ARIA
// 1.2 combobox pattern: the listbox it controls, collapsed until suggestions arrive)
// and keeps the browser's own autofill list from covering the suggestions.
func comboboxInput(f Field) Field {
	attrs := templ.Attributes{
		"role":              "combobox",
		"aria-autocomplete": "list",
		"aria-expanded":     "false",
		"aria-controls":     f.listboxID(),
		"spellcheck":        "false",
		"data-ref-filter":   true,
	}
	for k, v := range f.Attrs {
		attrs[k] = v
	}
	f.Attrs = attrs
	f.Autocomplete = "off"
	return f
}
