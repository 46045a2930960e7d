package config

import (
	"testing"
	"time"
)

func TestRetentionDefaultsAndParse(t *testing.T) {
	d := Default()
	if d.Retention.ClosedIncidentsAge() != 720*time.Hour || d.Retention.NotesAge() != 720*time.Hour {
		t.Errorf("defaults %v %v, want 720h each", d.Retention.ClosedIncidentsAge(), d.Retention.NotesAge())
	}
	c := mustParse(t, "[retention]\nclosed_incidents = \"48h\"\nnotes = \"2h30m\"\n")
	if c.Retention.ClosedIncidentsAge() != 48*time.Hour || c.Retention.NotesAge() != 150*time.Minute {
		t.Errorf("parsed %v %v", c.Retention.ClosedIncidentsAge(), c.Retention.NotesAge())
	}
	if !c.IsSet("retention", "closed_incidents") {
		t.Error("retention.closed_incidents not recorded as set")
	}
}

func TestRetentionErrors(t *testing.T) {
	for _, tc := range []errCase{
		{"no unit", "[retention]\nclosed_incidents = \"720\"\n", 2, "retention.closed_incidents", `"720" is not a duration like "720h"`},
		{"days are not a Go unit", "\n[retention]\nnotes = \"30d\"\n", 3, "retention.notes", "not a duration"},
		{"too short", "[retention]\n# c\nclosed_incidents = \"30m\"\n", 3, "retention.closed_incidents", "less than the minimum 1h"},
		{"negative", "[retention]\nnotes = \"-720h\"\n", 2, "retention.notes", "less than the minimum"},
		{"white space", "[retention]\nclosed_incidents = \" 720h\"\n", 2, "retention.closed_incidents", "white space"},
		{"integer", "[retention]\nclosed_incidents = 720\n", 2, "retention.closed_incidents", "must be a string, not an integer"},
		{"unknown key", "[retention]\nclosed_incident = \"720h\"\n", 2, "retention.closed_incident", `did you mean "closed_incidents"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(file, []byte(tc.text))
			checkErr(t, tc, err)
		})
	}
}
