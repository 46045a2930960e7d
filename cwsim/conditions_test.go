package cwsim

import (
	"strings"
	"testing"
)

var condRec = map[string]any{
	"id":          42,
	"name":        `O"Brien & Sons+`,
	"identifier":  "OBrien",
	"summary":     "Malware found on HOST-1",
	"path":        `C:\temp\x`,
	"pct":         "50% Off [Outlet]_*",
	"score":       3.5,
	"closedFlag":  false,
	"deletedFlag": true,
	"padded":      "abc   ",
	"board":       map[string]any{"id": 21, "name": "Security"},
	"types":       []any{map[string]any{"id": 1, "name": "Client"}, map[string]any{"id": 4, "name": "Prospect"}},
	"_info":       map[string]any{"lastUpdated": "2026-01-02T03:04:05Z"},
}

func TestConditionsMatch(t *testing.T) {
	cases := []struct {
		cond string
		want bool
	}{
		{`id = 42`, true},
		{`id != 42`, false},
		{`id < 43`, true},
		{`id <= 42`, true},
		{`id > 42`, false},
		{`id >= 42`, true},
		{`id = 42.0`, true},
		{`score > -1`, true},
		{`score < 3.6`, true},
		{`name = "o\"brien & sons+"`, true}, // case-insensitive, escaped quote
		{`name != "O\"Brien & Sons+"`, false},
		{`path = "C:\\temp\\x"`, true},
		{`name contains "BRIEN &"`, true},
		{`name not contains "brien"`, false},
		{`summary not contains "Low Priority"`, true},
		{`summary like "malware%"`, true},
		{`summary like "malware*"`, true},
		{`summary like "%HOST-_"`, true},
		{`summary like "%HOST-__"`, false},
		{`summary like "[lm]alware%"`, true},
		{`summary like "[^m]alware%"`, false},
		{`summary like "[a-n]alware%"`, true},
		{`summary not like "x%"`, true},
		{`pct like "50[%] Off%"`, true},
		{`pct like "50[%] Offx%"`, false},
		{`pct like "%[[]Outlet]%"`, true},
		{`pct like "%[_][*]"`, true},
		{`pct like "%x[*]"`, false},
		{`pct like "50_ Off%"`, true},
		{`summary like "[abc"`, false}, // unclosed bracket matches nothing
		{`padded = "ABC"`, true},       // trailing spaces ignored
		{`closedFlag = False`, true},
		{`closedFlag = true`, false},
		{`closedFlag != TRUE`, true},
		{`deletedFlag = True`, true},
		{`board/id = 21`, true},
		{`board/name = "security"`, true},
		{`board/id in (3, 21, 4)`, true},
		{`board/id not in (3, 21, 4)`, false},
		{`id not in (1,2)`, true},
		{`name in ("x", "o\"brien & sons+")`, true},
		{`types/name = "Prospect"`, true},
		{`types/id = 2`, false},
		{`missing = null`, true},
		{`missing != null`, false},
		{`name = null`, false},
		{`name != null`, true},
		{`missing = "x"`, false},
		{`missing != "x"`, false}, // SQL NULL semantics
		{`missing not contains "x"`, false},
		{`_info/lastUpdated > [2026-01-01T00:00:00Z]`, true},
		{`_info/lastUpdated = [2026-01-02T03:04:05Z]`, true},
		{`_info/lastUpdated < [2026-01-02T03:04:05Z]`, false},
		{`id = 1 OR id = 42`, true},
		{`id = 1 or id = 42 AND closedFlag = true`, false}, // AND binds tighter
		{`(id = 1 or id = 42) and closedFlag = false`, true},
		{`id = 1 OR (id = 42 AND (closedFlag = False OR deletedFlag = False))`, true},
		{`((id = 42))`, true},
		{`name contains "brien" AnD board/name = "Security" oR id = 0`, true},
		{``, true},
		{`   `, true},
	}
	for _, c := range cases {
		cond, err := ParseConditions(c.cond)
		if err != nil {
			t.Errorf("%s: parse error %v", c.cond, err)
			continue
		}
		got, err := cond.Match(condRec)
		if err != nil {
			t.Errorf("%s: match error %v", c.cond, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s = %v, want %v", c.cond, got, c.want)
		}
	}
}

func TestConditionsParseErrors(t *testing.T) {
	cases := []struct{ cond, wantMsg string }{
		{`name = 'x'`, "unexpected character"},
		{`name = x`, "double quotes"},
		{`name = "x`, "unterminated string"},
		{`name = "a\nb"`, "invalid escape"},
		{`name = "a\tb"`, "invalid escape"},
		{`name = "a\`, "unterminated escape"},
		{`name "x"`, "expected an operator"},
		{`name ==`, "expected a value"},
		{`name =`, "expected a value"},
		{`= 5`, "expected a field name"},
		{`id in 1,2`, "expected '('"},
		{`id in (1 2)`, "expected ',' or ')'"},
		{`id in ()`, "expected a value"},
		{`id = 1 AND`, "unexpected end"},
		{`id = 1 id = 2`, "unexpected"},
		{`(id = 1`, "expected ')'"},
		{`id = 1)`, "unexpected"},
		{`id not = 1`, "expected contains, like or in"},
		{`d > [yesterday]`, "invalid datetime"},
		{`d > [2026-01-01`, "unterminated datetime"},
		{`id = 12abc`, "invalid number"},
		{`id = 1.2.3`, "invalid number"},
		{`a//b = 1`, "invalid field name"},
		{`id ! 1`, "unexpected character"},
		{`and = 1`, "expected a field name"},
	}
	for _, c := range cases {
		_, err := ParseConditions(c.cond)
		if err == nil {
			t.Errorf("%s: no error", c.cond)
			continue
		}
		if !strings.Contains(err.Error(), c.wantMsg) {
			t.Errorf("%s: error %q lacks %q", c.cond, err, c.wantMsg)
		}
		if ce, ok := err.(*ConditionError); !ok || ce.Pos < 0 {
			t.Errorf("%s: error has no position: %v", c.cond, err)
		}
	}
}

func TestConditionsTypeErrors(t *testing.T) {
	for _, c := range []string{
		`name = 5`,            // string field vs number
		`id = "42"`,           // number field vs string
		`closedFlag = "true"`, // bool field vs string
		`closedFlag > False`,  // ordering booleans
		`id contains "4"`,     // contains on a number
		`name like 5`,
		`board = 21`,  // object
		`name > null`, // null with ordering
		`name = [2026-01-01T00:00:00Z]`,
		`id = True`,
	} {
		cond, err := ParseConditions(c)
		if err != nil {
			t.Errorf("%s: parse error %v", c, err)
			continue
		}
		if _, err := cond.Match(condRec); err == nil {
			t.Errorf("%s: no type error", c)
		}
	}
}

func TestConditionsBindSchema(t *testing.T) {
	c := newCollection("x", "X", "x", "", 1, false)
	c.learn("", copyMap(condRec))
	c.declare(kindDate, "closedDate")
	for _, ok := range []string{`board/name = "x"`, `closedDate = null`, `closedDate > [2020-01-01T00:00:00Z]`,
		`lastUpdated > [2020-01-01T00:00:00Z]`, `types/id = 4`} {
		cond, _ := ParseConditions(ok)
		if _, err := cond.bind(c.schema); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	cond, _ := ParseConditions(`typeids = "1"`)
	if _, err := cond.bind(c.schema); err == nil || err.Error() != "typeids is not a recognized name." {
		t.Errorf("unknown field: %v", err)
	}
	// Type errors are found from the schema even when no record has the field.
	cond, _ = ParseConditions(`closedDate = 5`)
	if _, err := cond.bind(c.schema); err == nil {
		t.Error("closedDate = 5 accepted")
	}
	// Field names are case-sensitive.
	cond, _ = ParseConditions(`Name = "x"`)
	if _, err := cond.bind(c.schema); err == nil {
		t.Error("Name accepted")
	}
}

func TestLikeEdgeCases(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"%", "", true},
		{"_", "", false},
		{"a%b%c", "aXXbYYc", true},
		{"a%b%c", "aXXbYY", false},
		{"%%%a", "bba", true},
		{"ü%", "Über", true},
		{"[]]x", "]x", true},
		{"a[-]b", "a-b", true},
		{"%[0-9][0-9]", "Room 42", true},
		{"%[0-9][0-9]", "Room 4", false},
	}
	for _, c := range cases {
		if got := likeMatch(compileLike(c.pat), c.s); got != c.want {
			t.Errorf("%q like %q = %v, want %v", c.s, c.pat, got, c.want)
		}
	}
}
