package cwsim

import (
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentReadsAndWrites exercises the locks and the projection cache
// under -race: lists with fields= run while tickets and notes are written
// and the security role and faults change.
func TestConcurrentReadsAndWrites(t *testing.T) {
	s := newTestServer(t, Options{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				switch (w + i) % 4 {
				case 0:
					check(t, api(t, s, "GET", "service/tickets?fields=id,summary,_info/lastUpdated&pageSize=100", nil), 200)
				case 1:
					check(t, api(t, s, "POST", "service/tickets/250003/notes", map[string]any{"text": fmt.Sprint(w, i), "internalAnalysisFlag": true}), 201)
				case 2:
					check(t, api(t, s, "PATCH", "service/tickets/250003", []map[string]any{{"op": "replace", "path": "summary", "value": fmt.Sprint("s", w, i)}}), 200)
				case 3:
					check(t, api(t, s, "GET", "service/tickets/250003/notes?pagination-type=x", nil, "pagination-type", "forward-only"), 200)
				}
			}
		}(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			s.SetSecurity(FuncProductCatalog, All, All, All, All)
			s.SetFaults(Faults{})
			_ = s.Stats()
			_ = s.Records("notes")
		}
	}()
	wg.Wait()
	if n := len(s.Records("notes")); n != 12+25 {
		t.Errorf("notes: %d", n)
	}
}

// check is wantStatus for goroutines: Errorf, not Fatalf.
func check(t *testing.T, r *resp, status int) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d: %s", r.status, status, r.body)
	}
}
