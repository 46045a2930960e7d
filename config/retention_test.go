package config

import (
	"testing"
	"time"
)

func TestRetentionDefaultsAndParse(t *testing.T) {
	d := Default()
	if d.Retention.ClosedIncidents.Duration != 720*time.Hour || d.Retention.Notes.Duration != 720*time.Hour {
		t.Errorf("defaults %v %v, want 720h each", d.Retention.ClosedIncidents, d.Retention.Notes)
	}
	c := mustParse(t, "[retention]\nclosed_incidents = \"48h\"\nnotes = \"2h30m\"\n")
	if c.Retention.ClosedIncidents.Duration != 48*time.Hour || c.Retention.Notes.Duration != 150*time.Minute {
		t.Errorf("parsed %v %v", c.Retention.ClosedIncidents, c.Retention.Notes)
	}
	if !c.IsSet("retention", "closed_incidents") {
		t.Error("retention.closed_incidents not recorded as set")
	}
}

func TestRetentionErrors(t *testing.T) {
	for _, tc := range []errCase{
		{"no unit", "[retention]\nclosed_incidents = \"720\"\n", 2, "retention.closed_incidents", `"720" is not a duration (write it like`},
		{"days are not a Go unit", "\n[retention]\nnotes = \"30d\"\n", 3, "retention.notes", "not a duration"},
		{"too short", "[retention]\n# c\nclosed_incidents = \"30m\"\n", 3, "retention.closed_incidents", "must be between 1h0m0s and 87600h0m0s, not 30m0s"},
		{"negative", "[retention]\nnotes = \"-720h\"\n", 2, "retention.notes", "not -720h0m0s"},
		{"white space", "[retention]\nclosed_incidents = \" 720h\"\n", 2, "retention.closed_incidents", "not a duration"},
		{"integer", "[retention]\nclosed_incidents = 720\n", 2, "retention.closed_incidents", "must be a duration string such as \"15m\", not an integer"},
		{"unknown key", "[retention]\nclosed_incident = \"720h\"\n", 2, "retention.closed_incident", `did you mean "closed_incidents"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(file, []byte(tc.text))
			checkErr(t, tc, err)
		})
	}
}
