package cwsim

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkServeSmall measures small authenticated GETs over loopback with
// parallel Go HTTP clients; it reports req/s.
func BenchmarkServeSmall(b *testing.B) {
	s := newTestServer(b, Options{})
	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	hdr := authHeaders(s)
	url := s.URL() + "/v2025_8/apis/3.0/company/companies/19301?fields=id,identifier,name"
	var failed atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header = hdr.Clone()
			res, err := client.Do(req)
			if err != nil {
				failed.Add(1)
				continue
			}
			io.Copy(io.Discard, res.Body) //nolint:errcheck
			res.Body.Close()
			if res.StatusCode != 200 {
				failed.Add(1)
			}
		}
	})
	el := time.Since(start)
	if failed.Load() > 0 {
		b.Fatalf("%d requests failed", failed.Load())
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
}

// discardWriter is a minimal http.ResponseWriter so the page benchmark
// measures only the server's own allocations.
type discardWriter struct {
	h http.Header
	n int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkListCompaniesPage serves 1000-record pages of 20,000 companies
// through ServeHTTP and reports the server's bytes allocated per record.
func BenchmarkListCompaniesPage(b *testing.B) {
	s := New(Options{Companies: 20000, Now: fixedNow})
	hdr := authHeaders(s)
	for _, bc := range []struct{ name, query string }{
		{"full", ""},
		{"fields", "&fields=id,identifier,name,deletedFlag,status/name"},
		{"conditions", "&conditions=deletedFlag%3Dfalse%20and%20name%20not%20like%20%22zz%25%22"},
		{"forward-only", "&pagination-type=forward-only"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			reqs := make([]*http.Request, 20)
			for p := range reqs {
				req, _ := http.NewRequest("GET", "http://127.0.0.1/v2025_8/apis/3.0/company/companies?pageSize=1000&page="+strconv.Itoa(p+1)+bc.query, nil)
				req.Header = hdr
				if bc.name == "forward-only" {
					req.Header = hdr.Clone()
					req.Header.Set("pagination-type", "forward-only")
					req.URL.RawQuery += "&pageId=" + strconv.Itoa(19300+p*1000)
				}
				reqs[p] = req
			}
			w := &discardWriter{h: http.Header{}}
			for _, req := range reqs { // warm the projection caches, as a first full pass would
				s.ServeHTTP(w, req)
			}
			var ms0, ms1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				clear(w.h)
				s.ServeHTTP(w, reqs[i%len(reqs)])
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N*1000), "B/record")
			b.ReportMetric(float64(w.n)/float64(len(reqs)+b.N)/1000, "JSON-B/record")
		})
	}
}

// BenchmarkProjectionColdPage measures the first (uncached) fields= pass.
func BenchmarkProjectionColdPage(b *testing.B) {
	s := New(Options{Companies: 1000, Now: fixedNow})
	hdr := authHeaders(s)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("GET", "http://127.0.0.1/v2025_8/apis/3.0/company/companies?pageSize=1000&fields=id,name,status/name,k"+strconv.Itoa(i), nil)
		req.Header = hdr
		s.ServeHTTP(&discardWriter{h: http.Header{}}, req)
	}
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N*1000), "B/record")
}

// BenchmarkHTTPPageAllCompanies pages 20,000 companies over loopback with a
// plain Go client decoding into a small struct, and reports process-wide
// bytes allocated per company (client + server), the budget a client
// benchmark elsewhere holds to 2 KiB.
func BenchmarkHTTPPageAllCompanies(b *testing.B) {
	s := newTestServer(b, Options{Companies: 20000})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	hdr := authHeaders(s)
	hdr.Set("pagination-type", "forward-only")
	type company struct {
		ID         int    `json:"id"`
		Identifier string `json:"identifier"`
		Name       string `json:"name"`
	}
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	total := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		next := s.URL() + "/v2025_8/apis/3.0/company/companies?pageSize=1000"
		for next != "" {
			req, _ := http.NewRequest("GET", next, nil)
			req.Header = hdr
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var page []company
			if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
				b.Fatal(err)
			}
			res.Body.Close()
			total += len(page)
			next = ""
			if l := res.Header.Get("Link"); l != "" {
				next = l[1:strings.IndexByte(l, '>')]
			}
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(total), "B/company")
}
