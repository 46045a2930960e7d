package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/cwbridge/cwbridge/internal/textsafe"
	"github.com/cwbridge/cwbridge/storage"
)

// maxSummary is ConnectWise's limit on a ticket summary.
const maxSummary = 100

// Actions a technician can name on the first line of a resolution note.
var actionNames = []string{"Block User", "Unblock User", "Isolate Device", "Release Device"}

// ExternalXRef is the stable id of one ticket generation of a key. It is
// stamped on the ticket so a create whose answer was lost can be found
// instead of made twice; ConnectWise allows 100 characters.
func ExternalXRef(key string, generation int) string {
	sum := sha256.Sum256([]byte(key))
	return fmt.Sprintf("cwb-%s-%d", hex.EncodeToString(sum[:10]), generation)
}

// Summary builds "[HIGH] Malware detected on PC-7 — Acme Dental" within
// ConnectWise's 100 characters, cutting the title first and on a rune
// boundary. ConnectWise counts UTF-16 code units (SQL Server nvarchar), so
// a rune outside the Basic Multilingual Plane (an emoji) counts twice.
func Summary(severity, title, company string) string {
	prefix := "[" + strings.ToUpper(severityOr(severity)) + "] "
	suffix := ""
	if company != "" {
		suffix = " — " + oneLine(company)
	}
	title = oneLine(title)
	room := maxSummary - width(prefix) - width(suffix)
	if room < 20 { // a very long company name gives way to the title
		suffix = ""
		room = maxSummary - width(prefix)
	}
	return truncate(prefix+truncate(title, room)+suffix, maxSummary)
}

// width is a string's length as ConnectWise counts it (UTF-16 code units).
func width(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func severityOr(s string) string {
	if s == "" {
		return "medium"
	}
	return s
}

// ticketSeverity maps our four levels onto ConnectWise's three.
func ticketSeverity(s string) string {
	switch s {
	case "low":
		return "Low"
	case "high", "critical":
		return "High"
	}
	return "Medium"
}

// truncate cuts s to at most n UTF-16 code units (see width), ending it
// with "…" when it cut.
func truncate(s string, n int) string {
	if width(s) <= n {
		return s
	}
	w := 0
	for i, r := range s {
		if w+utf16.RuneLen(r) > n-1 { // room for the ellipsis
			return strings.TrimSpace(s[:i]) + "…"
		}
		w += utf16.RuneLen(r)
	}
	return s
}

func oneLine(s string) string { return textsafe.Line(s) }

// Description is the ticket's first note: what happened and what the
// technician can do about it.
func Description(inc storage.Incident, company string) string {
	var b strings.Builder
	at := inc.OccurredAt
	if at.IsZero() {
		at = inc.ReceivedAt
	}
	fmt.Fprintf(&b, "%s\n\n", oneLine(inc.Title))
	if inc.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(inc.Description))
	}
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-10s %s\n", label+":", v)
		}
	}
	line("Time", at.UTC().Format(time.RFC3339))
	line("Severity", severityOr(inc.Severity))
	line("Type", inc.Type)
	line("Company", company)
	line("User", inc.User)
	line("Device", inc.Device)
	line("Domain", inc.Domain)
	line("Source IP", inc.SourceIP)
	line("Incident", inc.ID)
	if len(inc.Reasons) > 0 {
		b.WriteString("\nReasons:\n")
		for _, r := range inc.Reasons {
			fmt.Fprintf(&b, "- %s\n", oneLine(r))
		}
	}
	b.WriteString("\nActions: add a Resolution note whose first line is one of\n")
	for _, a := range actionNames {
		fmt.Fprintf(&b, "- %s\n", a)
	}
	b.WriteString("cwbridge runs it and answers on this ticket.\n")
	return b.String()
}

// foldNote is the note for repeats folded together, e.g. "37 more
// occurrences 10:02–10:04 UTC (40 in all); users: ann, bob". The running
// total makes every fold note of a ticket distinct, so a retry whose
// earlier answer was lost can tell its own note from an older one.
func foldNote(n int, first, last time.Time, users []string, total int) string {
	word := "occurrences"
	if n == 1 {
		word = "occurrence"
	}
	span := first.UTC().Format("15:04")
	if l := last.UTC().Format("15:04"); l != span {
		span += "–" + l
	}
	s := fmt.Sprintf("%d more %s %s UTC", n, word, span)
	if total > n {
		s += fmt.Sprintf(" (%d in all)", total)
	}
	if len(users) > 0 {
		s += "; users: " + strings.Join(users, ", ")
	}
	return s
}

// maxFoldUsers bounds the users named in one fold note.
const maxFoldUsers = 10

func addUser(users []string, u string) []string {
	if u == "" || slices.Contains(users, u) || len(users) >= maxFoldUsers {
		return users
	}
	return append(users, u)
}

// ParseAction reads the action named on a note's first line.
func ParseAction(text string) (string, bool) {
	first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	first = oneLine(strings.TrimRight(strings.TrimSpace(first), ".:!"))
	for _, a := range actionNames {
		if strings.EqualFold(first, a) {
			return a, true
		}
	}
	return "", false
}
