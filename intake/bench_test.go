package intake

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/storage"
)

const (
	benchClients = 64
	benchBatch   = 100
)

// BenchmarkIntakeDurable: 64 HTTP clients on loopback post NDJSON batches
// of 100 incidents to a real Serve listener over a temp-dir store. One op is
// one batch; every 202 means the batch was fsync'd. Clients, server and
// store share the machine's cores, so the figure is a floor.
func BenchmarkIntakeDurable(b *testing.B) {
	st, err := storage.Open(b.TempDir(), storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// No engine drains the queue here, so lift the back-pressure limit.
	srv, err := New(Options{Store: st, Token: storage.NewSecret(testToken), MaxQueue: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-served
	}()
	url := "http://" + ln.Addr().String() + "/v1/incidents"
	tr := &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	var batchSeq atomic.Int64
	b.SetParallelism((benchClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.SetBytes(int64(len(benchBody(nil, 0))))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var body []byte
		for pb.Next() {
			body = benchBody(body[:0], batchSeq.Add(1))
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Content-Type", ContentTypeNDJSON)
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchBatch)/elapsed.Seconds(), "incidents/s")
	if got := st.QueueLen(); got != b.N*benchBatch {
		b.Fatalf("queue %d, want %d", got, b.N*benchBatch)
	}
}

// benchBody appends one NDJSON batch with ids unique to batch n.
func benchBody(dst []byte, n int64) []byte {
	for i := range benchBatch {
		dst = append(dst, `{"id":"bench-`...)
		dst = strconv.AppendInt(dst, n, 10)
		dst = append(dst, '-')
		dst = strconv.AppendInt(dst, int64(i), 10)
		dst = append(dst, `","type":"threat","company":"acme","title":"Suspicious sign-in from new country","severity":"high",`+
			`"user":"j.doe@acme.example","device":"LAPTOP-42","source_ip":"203.0.113.7","reasons":["impossible travel","new device"],`+
			`"description":"A sign-in was seen from a country this user has never signed in from.","occurred_at":"2026-01-01T00:00:00Z"}`+"\n"...)
	}
	return dst
}
