package engine

import (
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cwbridge/cwbridge/storage"
)

// utf16Len is how ConnectWise (SQL Server nvarchar) counts characters.
func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

func TestSummaryFits(t *testing.T) {
	long := strings.Repeat("Malware detected on workstation ", 10)
	cases := []struct {
		name, sev, title, company string
		wantPrefix                string
		wantCompany               bool
	}{
		{"short", "high", "Malware on PC-7", "Acme Dental", "[HIGH] Malware on PC-7 — Acme Dental", true},
		{"untidy title", "high", "Malware\non\tPC-7 \x1b[31mnow\x1b[0m\u202e", "Acme", "[HIGH] Malware on PC-7 now\uFFFD — Acme", true},
		{"default severity", "", "x", "", "[MEDIUM] x", false},
		{"long title", "critical", long, "Acme", "[CRITICAL] Malware detected", true},
		{"long company", "low", "Phishing mail", strings.Repeat("Company ", 20), "[LOW] Phishing mail", false},
		{"company just fits", "low", long, strings.Repeat("c", 60), "[LOW] Malware", true},
		{"multi-byte title", "high", strings.Repeat("Überwachung ausgelöst für Gerät Ä-7 ", 8), "Müller GmbH", "[HIGH] Überwachung", true},
		{"CJK title", "high", strings.Repeat("不正なログインが検出されました", 10), "東京支社", "[HIGH] 不正な", true},
		{"emoji title", "medium", strings.Repeat("🚨 phishing 🎣 ", 20), "Acme 🏥", "[MEDIUM] 🚨 phishing", true},
		{"multi-byte company", "high", long, strings.Repeat("Ö", 90), "[HIGH] Malware", false},
		{"title with newlines", "high", "Malware\n\non\tPC-7\r\n", "Acme", "[HIGH] Malware on PC-7 — Acme", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := Summary(c.sev, c.title, c.company)
			if n := utf8.RuneCountInString(s); n > 100 {
				t.Fatalf("%d runes: %q", n, s)
			}
			if n := utf16Len(s); n > 100 {
				t.Fatalf("%d UTF-16 units (ConnectWise's count): %q", n, s)
			}
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 (cut inside a rune): %q", s)
			}
			if !strings.HasPrefix(s, c.wantPrefix) {
				t.Fatalf("got %q, want prefix %q", s, c.wantPrefix)
			}
			if c.wantCompany != strings.HasSuffix(s, " — "+c.company) {
				t.Fatalf("company kept = %v, want %v: %q", !c.wantCompany, c.wantCompany, s)
			}
			if strings.ContainsAny(s, "\n\r\t") {
				t.Fatalf("summary not on one line: %q", s)
			}
		})
	}
	// A title that fits is never cut.
	title := strings.Repeat("a", 100-utf8.RuneCountInString("[HIGH]  — Acme"))
	if s := Summary("high", title, "Acme"); s != "[HIGH] "+title+" — Acme" {
		t.Fatalf("exact fit cut: %q", s)
	}
	if s := Summary("high", title+"b", "Acme"); !strings.HasSuffix(s, "… — Acme") || utf8.RuneCountInString(s) != 100 {
		t.Fatalf("one over: %q (%d)", s, utf8.RuneCountInString(s))
	}
}

func TestParseAction(t *testing.T) {
	cases := []struct {
		text, want string
		ok         bool
	}{
		{"Block User", "Block User", true},
		{"block user", "Block User", true},
		{"BLOCK USER.", "Block User", true},
		{"Block User:\nann@acme.test clicked the link", "Block User", true},
		{"Block User\r\nplease", "Block User", true},
		{"\n\n  Isolate Device!  \nPC-7", "Isolate Device", true},
		{"Unblock User", "Unblock User", true},
		{"Release Device", "Release Device", true},
		{"Block  User", "Block User", true}, // a doubled space is still the action
		{"Block User now", "", false},
		{"Please Block User", "", false},
		{"Blocking User", "", false},
		{"Resolved by the security platform: Malware on PC-7", "", false},
		{"cwbridge: Block User: done", "", false},
		{"", "", false},
		{"Called the customer.\nBlock User", "", false}, // only the first line counts
	}
	for _, c := range cases {
		got, ok := ParseAction(c.text)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseAction(%q) = %q, %v; want %q, %v", c.text, got, ok, c.want, c.ok)
		}
	}
}

func TestExternalXRef(t *testing.T) {
	keys := []string{"", "k1", "acme|malware|Malware on PC-7", strings.Repeat("ключ", 500), "k1 "}
	seen := map[string]string{}
	for _, k := range keys {
		for _, gen := range []int{1, 2, 1 << 30} {
			x := ExternalXRef(k, gen)
			if x != ExternalXRef(k, gen) {
				t.Fatalf("not stable for %q/%d", k, gen)
			}
			if len(x) > 100 || !strings.HasPrefix(x, "cwb-") {
				t.Fatalf("%q/%d: %q (%d chars)", k, gen, x, len(x))
			}
			if prev, dup := seen[x]; dup {
				t.Fatalf("%q collides with %q", x, prev)
			}
			seen[x] = k
		}
	}
	// Pinned: the id is stamped on tickets, so it must not change between
	// releases or a restart could not find a ticket an older one created.
	if got := ExternalXRef("k1", 1); got != ExternalXRef("k1", 1) || !strings.HasSuffix(got, "-1") {
		t.Fatalf("k1/1: %q", got)
	}
}

func TestFoldNoteAndDescription(t *testing.T) {
	t0 := time.Date(2025, 3, 3, 10, 2, 0, 0, time.UTC)
	n := foldNote(37, t0, t0.Add(2*time.Minute), []string{"ann", "bob"}, 40)
	if !strings.HasPrefix(n, "37 more occurrences 10:02–10:04 UTC") || !strings.Contains(n, "users: ann, bob") {
		t.Fatalf("fold note: %q", n)
	}
	if n := foldNote(1, t0, t0, nil, 2); !strings.HasPrefix(n, "1 more occurrence 10:02 UTC") || strings.Contains(n, "users") {
		t.Fatalf("fold note of one: %q", n)
	}
	d := Description(storage.Incident{ID: "i1", Type: "malware", Title: "Malware\non PC-7", Severity: "high", User: "ann",
		Device: "PC-7", Domain: "acme.test", Reasons: []string{"hash match", "beacon\nto C2"}, OccurredAt: t0}, "Acme")
	for _, want := range []string{"Malware on PC-7\n", "2025-03-03T10:02:00Z", "ann", "PC-7", "acme.test", "- hash match", "- beacon to C2",
		"- Block User", "- Isolate Device"} {
		if !strings.Contains(d, want) {
			t.Errorf("description lacks %q:\n%s", want, d)
		}
	}
}
