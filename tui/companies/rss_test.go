package companies

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

// rssKiB reads the resident set size from /proc/self/status (Linux).
func rssKiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// TestRSSWith20kCompanies keeps the page with 20,000 companies under the
// 60 MiB resident budget (the whole test process, store included).
func TestRSSWith20kCompanies(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 20,000 companies")
	}
	st := cached(t, 20000)
	m := New(tu.Common(st, &tu.Backend{}))
	m.SetSize(120, 38)
	m.Update(m.loadCache()().(common.PageMsg).Msg)
	_ = m.View()
	if m.idx.Len() != 20000 {
		t.Fatalf("loaded %d", m.idx.Len())
	}
	rss := rssKiB()
	t.Logf("RSS with 20,000 companies on screen: %.1f MiB", float64(rss)/1024)
	if rss > 60*1024 {
		t.Errorf("RSS %.1f MiB, budget 60 MiB", float64(rss)/1024)
	}
}
