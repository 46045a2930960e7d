package intake

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/internal/textsafe"
	"github.com/cwbridge/cwbridge/storage"
)

// ItemError says which item of a batch is bad and why. Index is 0-based and
// counts items (NDJSON blank lines are not items); -1 means the request as a
// whole (its content type). Field is the JSON field at fault, "" when the
// item as a whole is (not an object, malformed JSON between fields).
type ItemError struct {
	Index int
	Field string
	Msg   string
}

func (e *ItemError) Error() string {
	if e.Index < 0 {
		return e.Detail()
	}
	return "item " + strconv.Itoa(e.Index) + ": " + e.Detail()
}

// Detail is the message without the index: `field "severity": must be ...`.
func (e *ItemError) Detail() string {
	if e.Field == "" {
		return e.Msg
	}
	return "field " + strconv.Quote(e.Field) + ": " + e.Msg
}

// Length limits, in characters. They keep one incident well inside a bbolt
// key/value and a ConnectWise ticket, and stop a runaway producer from
// filling the queue with megabyte titles.
const (
	MaxIDLen          = storage.MaxIncidentIDLen // 200, the contract's limit
	MaxCompanyLen     = 200
	MaxTitleLen       = 500 // the ticket summary is cut to 100 from it
	MaxKeyLen         = 1000
	MaxDescriptionLen = 16000
	MaxNameLen        = 320 // user (an e-mail address at most 320), device, domain
	MaxReasons        = 50
	MaxReasonLen      = 500
	maxTypeLen        = 64 // config.ValidAlertType's own limit
)

// Severities and statuses the contract allows.
var (
	severities = storage.Severities
	statuses   = []string{"firing", "resolved"}
)

const (
	defaultSeverity = "medium"
	defaultStatus   = "firing"
)

// DefaultKey is the dedup key of an incident that brings none
// (storage.DefaultIncidentKey, which the engine uses too).
func DefaultKey(company, alertType, title string) string {
	return storage.DefaultIncidentKey(company, alertType, title)
}

// validate applies the defaults and checks every field. It is idempotent:
// an incident it accepted passes again unchanged (FuzzDecode checks this).
func validate(inc *storage.Incident, idx int) *ItemError {
	bad := func(field, format string, args ...any) *ItemError {
		return &ItemError{Index: idx, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"id", inc.ID}, {"type", inc.Type}, {"company", inc.Company}, {"title", inc.Title}} {
		if strings.TrimSpace(f.v) == "" {
			return bad(f.name, "required")
		}
	}
	// The type first: the default key is built from it.
	if len(inc.Type) > maxTypeLen {
		return bad("type", "unknown alert type: longer than %d characters", maxTypeLen)
	}
	if err := config.ValidAlertType(inc.Type); err != nil {
		return bad("type", "%v", err)
	}
	if inc.Severity == "" {
		inc.Severity = defaultSeverity
	}
	if inc.Status == "" {
		inc.Status = defaultStatus
	}
	// Display text that is merely untidy is tidied, not refused (a line
	// break in a title would otherwise refuse the whole batch): white space
	// becomes one space, escape sequences go, other control and bidi
	// characters become U+FFFD. Ids, workspaces and keys are identities and
	// stay checked as sent.
	inc.Title = textsafe.Line(inc.Title)
	inc.User, inc.Device, inc.Domain = textsafe.Line(inc.User), textsafe.Line(inc.Device), textsafe.Line(inc.Domain)
	for i, r := range inc.Reasons {
		inc.Reasons[i] = textsafe.Line(r)
	}
	inc.Description = textsafe.Clean(inc.Description)
	if inc.Title == "" {
		return bad("title", "required (it held only white space or control characters)")
	}
	if inc.Key == "" {
		inc.Key = DefaultKey(inc.Company, inc.Type, inc.Title)
	}
	// Single-line text: no control characters (they end up in ticket
	// summaries, log lines and bbolt keys).
	for _, f := range []struct {
		name string
		v    string
		max  int
	}{
		{"id", inc.ID, MaxIDLen},
		{"company", inc.Company, MaxCompanyLen},
		{"title", inc.Title, MaxTitleLen},
		{"key", inc.Key, MaxKeyLen},
		{"user", inc.User, MaxNameLen},
		{"device", inc.Device, MaxNameLen},
		{"domain", inc.Domain, MaxNameLen},
	} {
		if msg := checkText(f.v, f.max, false); msg != "" {
			return bad(f.name, "%s", msg)
		}
	}
	if msg := checkText(inc.Description, MaxDescriptionLen, true); msg != "" {
		return bad("description", "%s", msg)
	}
	if !oneOf(inc.Severity, severities) {
		return bad("severity", "must be one of %s, not %s", strings.Join(severities, ", "), quoteShort(inc.Severity))
	}
	if !oneOf(inc.Status, statuses) {
		return bad("status", "must be one of %s, not %s", strings.Join(statuses, ", "), quoteShort(inc.Status))
	}
	if inc.SourceIP != "" {
		if _, err := netip.ParseAddr(inc.SourceIP); err != nil {
			return bad("source_ip", "not an IP address: %s", quoteShort(inc.SourceIP))
		}
	}
	if len(inc.Reasons) > MaxReasons {
		return bad("reasons", "at most %d reasons, not %d", MaxReasons, len(inc.Reasons))
	}
	for i, r := range inc.Reasons {
		if msg := checkText(r, MaxReasonLen, false); msg != "" {
			return bad("reasons", "reason %d: %s", i, msg)
		}
	}
	return nil
}

// checkText returns why s is not acceptable text of at most max characters,
// or "". multiline allows newlines and tabs.
func checkText(s string, max int, multiline bool) string {
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Sprintf("longer than %d characters (%d)", max, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			return "contains a control character " + strconv.QuoteRune(r)
		}
	}
	return ""
}

// parseTime reads occurred_at: RFC 3339, fractional seconds allowed.
func parseTime(s string) (time.Time, string) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, "not an RFC 3339 time (e.g. 2026-01-02T15:04:05Z): " + quoteShort(s)
	}
	return t, ""
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// quoteShort quotes a caller's value for an error message, cut to keep the
// message one short line.
func quoteShort(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return strconv.Quote(s)
}
