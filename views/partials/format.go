// Package partials holds the console's page sections that are also returned alone as
// htmx fragments (a list section, a pipeline row, a form, check results), plus the small
// formatting helpers pages share. A partial is one component whether it is rendered
// inside its page or on its own, so an in-place update always matches a reload.
package partials

import (
	"fmt"
	"strconv"
	"time"

	"github.com/rosetta-cdc/rosetta/internal/catalog"
	"github.com/rosetta-cdc/rosetta/internal/pgsource"
)

// Bytes formats a byte count in IEC units: "512 B", "1.4 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < 0 {
		return "-" + Bytes(-n)
	}
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	prec := 1
	if v >= 100 {
		prec = 0
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " " + string("KMGTPE"[exp]) + "iB"
}

// BytesPtr formats an optional byte count; nil is "—".
func BytesPtr(n *int64) string {
	if n == nil {
		return "—"
	}
	return Bytes(*n)
}

// now is the clock relative times are measured against; tests may pin it.
var now = time.Now

// Relative says how long ago (or how far ahead) t is, in words: "just now",
// "5 minutes ago", "in 2 hours", "3 days ago".
func Relative(t time.Time) string { return relative(t, "") }

// relative is Relative with t's Absolute form, when the caller has it already.
func relative(t time.Time, abs string) string { return relativeAt(t, abs, now()) }

// relativeAt is relative measured against at (a list reads the clock once per page).
func relativeAt(t time.Time, abs string, at time.Time) string {
	d := at.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < 45*time.Second:
		return "just now"
	case d < 90*time.Second:
		s = "1 minute"
	case d < time.Hour:
		s = plural(int(d.Round(time.Minute)/time.Minute), "minute")
	case d < 36*time.Hour:
		s = plural(int(d.Round(time.Hour)/time.Hour), "hour")
	case d < 60*24*time.Hour:
		s = plural(int(d.Round(24*time.Hour)/(24*time.Hour)), "day")
	default:
		if abs == "" {
			abs = Absolute(t)
		}
		return abs
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// Absolute is a timestamp as operators read it: UTC, to the second.
func Absolute(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// timeTexts is Machine(t) and Absolute(t) at once, written digit by digit: a list shows
// one or two times per row, and time.Format's layout parsing was a sixth of its render.
func timeTexts(t time.Time) (machine, abs string) {
	u := t.UTC()
	y, mo, d := u.Date()
	if y < 0 || y > 9999 {
		return Machine(t), Absolute(t)
	}
	h, mi, s := u.Clock()
	// "2006-01-02T15:04:05Z" then "2006-01-02 15:04:05 UTC", made one string
	var b [20 + 23]byte
	put := func(i, v, width int) {
		for k := i + width - 1; k >= i; k-- {
			b[k] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, y, 4)
	b[4] = '-'
	put(5, int(mo), 2)
	b[7] = '-'
	put(8, d, 2)
	b[10] = 'T'
	put(11, h, 2)
	b[13] = ':'
	put(14, mi, 2)
	b[16] = ':'
	put(17, s, 2)
	b[19] = 'Z'
	copy(b[20:], b[:10])
	b[30] = ' '
	copy(b[31:], b[11:19])
	copy(b[39:], " UTC")
	both := string(b[:])
	return both[:20], both[20:]
}

// Machine is the datetime attribute of a <time> element.
func Machine(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// YesNo spells an optional flag.
func YesNo(b *bool) string {
	switch {
	case b == nil:
		return "—"
	case *b:
		return "yes"
	default:
		return "no"
	}
}

// CheckSummary sums up test-connection results in a sentence (the panel and the flash).
func CheckSummary(checks []pgsource.Check) string {
	var failed, warned int
	for _, c := range checks {
		switch c.Status {
		case pgsource.StatusFail:
			failed++
		case pgsource.StatusWarn:
			warned++
		}
	}
	switch {
	case failed == 0 && warned == 0:
		return "All checks passed."
	case failed == 0:
		return fmt.Sprintf("No check failed; %s.", plural(warned, "warning"))
	case warned == 0:
		return fmt.Sprintf("%s failed.", plural(failed, "check"))
	default:
		return fmt.Sprintf("%s failed; %s.", plural(failed, "check"), plural(warned, "warning"))
	}
}

// AlertLabel names a source alert for people.
func AlertLabel(a string) string {
	switch a {
	case catalog.AlertFailing:
		return "Probe failing"
	case catalog.AlertSlotInactive:
		return "Slot inactive"
	case catalog.AlertSlotLost:
		return "Slot lost"
	case catalog.AlertRetention:
		return "Retention over threshold"
	}
	return a
}

// AlertClass is an alert's badge class: a lost slot or a failing source is an error (the
// monitor sets pipelines to ERROR for them); the others are warnings.
func AlertClass(a string) string {
	if a == catalog.AlertSlotLost || a == catalog.AlertFailing {
		return "badge-error"
	}
	return "badge-warn"
}
