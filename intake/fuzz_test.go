package intake

import (
	"reflect"
	"testing"
)

// FuzzDecode: any bytes under either content type give incidents or an
// ItemError, never a panic, and every incident returned passes validation
// again unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		good,
		"[" + good + "," + good + "]",
		good + "\n\n" + good,
		`{"id":"e\u00e9\ud83d\ude00","type":"threat","company":"a","title":"t","reasons":["x","y"],"occurred_at":"2026-01-02T03:04:05Z","source_ip":"::1"}`,
		`{"id":"e","type":"threat","company":"a","title":"t","severity":null,"reasons":null}`,
		`{"id":"\ud800","type":"threat","company":"a","title":"t"}`,
		`[{"id":1}]`, `{"severty":"x"}`, `{"id":"a\\"}`, `[`, `{`, `"`, "",
	} {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	f.Fuzz(func(t *testing.T, ndjson bool, body []byte) {
		ct := ContentTypeJSON
		if ndjson {
			ct = ContentTypeNDJSON
		}
		incs, err := Decode(ct, body)
		if err != nil {
			if incs != nil {
				t.Fatalf("incidents returned with an error: %v", err)
			}
			if err.Index < 0 || err.Msg == "" {
				t.Fatalf("bad ItemError %+v", err)
			}
			return
		}
		if len(incs) == 0 {
			t.Fatal("no incidents and no error")
		}
		for i, inc := range incs {
			again := inc
			if verr := validate(&again, i); verr != nil {
				t.Fatalf("incident %d fails validation: %v", i, verr)
			}
			if !reflect.DeepEqual(again, inc) {
				t.Fatalf("validation changed incident %d:\n%+v\n%+v", i, inc, again)
			}
		}
	})
}
