package companies

import (
	"os"
	"strconv"
	"strings"
)

// rssKiB reads the resident set size from /proc/self/status (Linux).
// BenchmarkFirstFrame20k reports it: memory is a figure measured with
// -bench, not a test assertion (-race alone inflates it past any budget).
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
