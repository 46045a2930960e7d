package intake

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const good = `{"id":"e1","type":"threat","company":"acme","title":"Sign-in from new country"}`

func TestDecodeForms(t *testing.T) {
	for _, tc := range []struct {
		name, ct, body string
		n              int
	}{
		{"object", "application/json", good, 1},
		{"object with charset", "application/json; charset=utf-8", "  " + good + "\n", 1},
		{"array", "application/json", "[" + good + " , " + strings.Replace(good, "e1", "e2", 1) + "]", 2},
		{"ndjson", "application/x-ndjson", good + "\n\n  \r\n" + strings.Replace(good, "e1", "e2", 1) + "\r\n", 2},
		{"ndjson no final newline", "application/x-ndjson", good, 1},
	} {
		incs, err := Decode(tc.ct, []byte(tc.body))
		if err != nil || len(incs) != tc.n {
			t.Errorf("%s: %d incidents, %v", tc.name, len(incs), err)
		}
	}
}

func TestDecodeDefaultsAndFields(t *testing.T) {
	body := `{"id":"e\u00e9","type":"malware","company":"acme","title":"T","description":"line1\nline2",
		"user":"j@acme.example","device":"PC-1","domain":"acme.example","source_ip":"2001:db8::1",
		"reasons":["a","b\"c"],"occurred_at":"2026-01-02T03:04:05.123+02:00","severity":null}`
	incs, err := Decode("application/json", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	inc := incs[0]
	if inc.ID != "eé" || inc.Severity != "medium" || inc.Status != "firing" || inc.Key != "acme|malware|T" {
		t.Fatalf("defaults: %+v", inc)
	}
	if inc.Description != "line1\nline2" || len(inc.Reasons) != 2 || inc.Reasons[1] != `b"c` || inc.SourceIP != "2001:db8::1" {
		t.Fatalf("fields: %+v", inc)
	}
	if want := time.Date(2026, 1, 2, 1, 4, 5, 123e6, time.UTC); !inc.OccurredAt.Equal(want) {
		t.Fatalf("occurred_at %v", inc.OccurredAt)
	}
}

// TestDecodeErrors: every rule names the item and the field.
func TestDecodeErrors(t *testing.T) {
	obj := func(kv string) string {
		return `{"id":"e1","type":"threat","company":"acme","title":"T"` + kv + `}`
	}
	for _, tc := range []struct {
		name, body    string
		field, substr string
	}{
		{"missing id", `{"type":"threat","company":"acme","title":"T"}`, "id", "required"},
		{"blank id", `{"id":"  ","type":"threat","company":"acme","title":"T"}`, "id", "required"},
		{"missing type", `{"id":"e","company":"acme","title":"T"}`, "type", "required"},
		{"missing company", `{"id":"e","type":"threat","title":"T"}`, "company", "required"},
		{"missing title", `{"id":"e","type":"threat","company":"acme"}`, "title", "required"},
		{"long id", `{"id":"` + strings.Repeat("x", 201) + `","type":"threat","company":"acme","title":"T"}`, "id", "longer than 200"},
		{"bad type", `{"id":"e","type":"Threat!","company":"acme","title":"T"}`, "type", "unknown alert type"},
		{"typo type", `{"id":"e","type":"threaat","company":"acme","title":"T"}`, "type", "did you mean"},
		{"severity", obj(`,"severity":"urgent"`), "severity", "must be one of low, medium, high, critical"},
		{"status", obj(`,"status":"open"`), "status", "firing, resolved"},
		{"source_ip", obj(`,"source_ip":"1.2.3"`), "source_ip", "not an IP"},
		{"occurred_at", obj(`,"occurred_at":"yesterday"`), "occurred_at", "RFC 3339"},
		{"reasons type", obj(`,"reasons":"a"`), "reasons", "must be an array of strings, not a string"},
		{"reason type", obj(`,"reasons":["a",1]`), "reasons", "reason 1 must be a string, not a number"},
		{"unknown field", obj(`,"severty":"high"`), "severty", `did you mean "severity"`},
		{"case folded field", obj(`,"Severity":"high"`), "Severity", "unknown field"},
		{"repeated field", obj(`,"title":"U"`), "title", "given twice"},
		{"number", obj(`,"user":42`), "user", "must be a string, not a number"},
		{"object", obj(`,"device":{}`), "device", "must be a string, not an object"},
		{"bool", `{"id":true}`, "id", "must be a string, not a boolean"},
		{"title too long", `{"id":"e","type":"threat","company":"acme","title":"` + strings.Repeat("é", 501) + `"}`, "title", "longer than 500 characters"},
		{"control char in id", `{"id":"e\u0007","type":"threat","company":"acme","title":"ab"}`, "id", "control character"},
		{"control char in key", obj(`,"key":"k\n1"`), "key", "control character"},
		{"lone surrogate", `{"id":"e","type":"threat","company":"acme","title":"a\ud800b"}`, "title", "lone surrogate"},
		{"lone low surrogate", `{"id":"e","type":"threat","company":"acme","title":"\udc00"}`, "title", "lone surrogate"},
		{"high then not low", `{"id":"e","type":"threat","company":"acme","title":"\ud83d\u0041"}`, "title", "lone surrogate"},
		{"title only white space", `{"id":"e","type":"threat","company":"acme","title":"\n\t"}`, "title", "required"},
		{"invalid utf8", "{\"id\":\"e\xff\",\"type\":\"threat\",\"company\":\"acme\",\"title\":\"T\"}", "id", "UTF-8"},
		{"malformed", `{"id":"e",`, "", "malformed JSON"},
		{"malformed value", `{"id":nope}`, "id", "malformed JSON"},
		{"trailing", good + ` x`, "", "unexpected text"},
		{"not object", `"hello"`, "", "JSON object or an array"},
		{"empty", ``, "", "JSON object or an array"},
		{"empty array", `[]`, "", "no incidents"},
	} {
		_, err := Decode("application/json", []byte(tc.body))
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if err.Index != 0 || err.Field != tc.field || !strings.Contains(err.Msg, tc.substr) {
			t.Errorf("%s: got index %d field %q msg %q; want field %q msg ~%q", tc.name, err.Index, err.Field, err.Msg, tc.field, tc.substr)
		}
	}
}

// TestUntidyTextIsNormalised: a line break or a tab in a title (and the
// other display fields) is not an error: it becomes a space, so the other
// items of its batch are not refused with it. What could fool a reader (an
// escape sequence, a bidi override) does not reach the ticket.
func TestUntidyTextIsNormalised(t *testing.T) {
	var b strings.Builder
	for i := range 25 {
		title := "Malware on PC-7"
		if i == 12 {
			title = `Malware\non\tPC-7 \u001b[31mred\u001b[0m invoice\u202efdp.exe`
		}
		fmt.Fprintf(&b, `{"id":"n%d","type":"threat","company":"acme","title":"%s","user":"ann\r\n","description":"line 1\r\nline 2\u001b]0;pwned\u0007"}`+"\n", i, title)
	}
	incs, err := Decode("application/x-ndjson", []byte(b.String()))
	if err != nil {
		t.Fatalf("batch refused: %+v", err)
	}
	if len(incs) != 25 {
		t.Fatalf("%d incidents, want 25", len(incs))
	}
	got := incs[12]
	if got.Title != "Malware on PC-7 red invoice\uFFFDfdp.exe" || got.User != "ann" || got.Description != "line 1\nline 2" {
		t.Fatalf("normalised to title %q user %q description %q", got.Title, got.User, got.Description)
	}
	if got.Key != DefaultKey("acme", "threat", got.Title) {
		t.Fatalf("default key %q is not built from the tidied title", got.Key)
	}
	// Surrogate pairs that make a real character are fine.
	if incs, err := Decode("application/json", []byte(`{"id":"e","type":"threat","company":"acme","title":"\ud83d\ude00 ok"}`)); err != nil || incs[0].Title != "😀 ok" {
		t.Fatalf("a surrogate pair: %+v %+v", incs, err)
	}
}

func TestDecodeErrorIndex(t *testing.T) {
	bad := `{"id":"e3","type":"threat","company":"acme","title":"T","severity":"x"}`
	_, err := Decode("application/json", []byte("["+good+","+good+","+bad+"]"))
	if err == nil || err.Index != 2 || err.Field != "severity" {
		t.Fatalf("array: %+v", err)
	}
	_, err = Decode("application/json", []byte("["+good+",42]"))
	if err == nil || err.Index != 1 || !strings.Contains(err.Msg, "must be a JSON object") {
		t.Fatalf("array of non-object: %+v", err)
	}
	// NDJSON: blank lines are not items.
	_, err = Decode("application/x-ndjson", []byte(good+"\n\n"+bad+"\n"))
	if err == nil || err.Index != 1 || err.Field != "severity" {
		t.Fatalf("ndjson: %+v", err)
	}
	_, err = Decode("application/x-ndjson", []byte(good+" "+good))
	if err == nil || err.Index != 0 || !strings.Contains(err.Msg, "one object per line") {
		t.Fatalf("two objects on a line: %+v", err)
	}
	if !strings.HasPrefix(err.Error(), "item 0: ") {
		t.Fatalf("Error(): %q", err.Error())
	}
}

func TestDecodeContentType(t *testing.T) {
	for _, ct := range []string{"", "text/plain", "application/json; charset=latin1", "application/jsonx", "multipart/form-data"} {
		if _, err := Decode(ct, []byte(good)); err == nil || err.Index != -1 {
			t.Errorf("%q: %+v", ct, err)
		}
	}
	if _, err := Decode("Application/JSON; Charset=UTF-8", []byte(good)); err != nil {
		t.Errorf("case-insensitive media type: %v", err)
	}
}
