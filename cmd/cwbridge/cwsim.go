package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
)

func runCWSim(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "cwsim", "cwsim [--listen ADDR] [--companies N] [--seed S] [fault flags]")
	listen := fs.String("listen", "127.0.0.1:8089", "loopback address to serve on (port 0 picks a free one)")
	companies := fs.Int("companies", 25, "number of client companies to seed (plus a catch-all)")
	seed := fs.Int64("seed", 1, "seed for the generated data and credentials")
	fail500 := fs.Float64("fail-500", 0, "fraction of API requests answered 500 (0..1)")
	fail429 := fs.Float64("fail-429", 0, "fraction of API requests answered 429 with Retry-After (0..1)")
	retryAfter := fs.Duration("retry-after", time.Second, "Retry-After announced with each 429 (whole seconds)")
	latency := fs.Duration("latency", 0, "latency added to every request")
	lose := fs.Float64("lose-responses", 0, "fraction of writes committed but never answered (0..1)")
	slow := fs.Duration("slow-commit", 0, "delay before every write commits; it commits even when the caller gave up")
	broken := fs.Float64("broken-answers", 0, "fraction of writes committed but answered 2xx with {\"id\":0} (0..1)")
	hangUp := fs.Bool("hang-up", false, "drop every connection without an answer (a proxy before a ConnectWise that is down)")
	if code := parseFlags(e, fs, args); code >= 0 {
		return code
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "cwbridge cwsim: "+format+"\n", a...)
		return exitConfig
	}
	for name, f := range map[string]float64{"--fail-500": *fail500, "--fail-429": *fail429, "--lose-responses": *lose} {
		if f < 0 || f > 1 {
			return bad("%s must be between 0 and 1, got %g", name, f)
		}
	}
	if *companies < 0 || *companies > 1_000_000 {
		return bad("--companies must be between 0 and 1000000, got %d", *companies)
	}
	if *retryAfter < time.Second || *latency < 0 {
		return bad("--retry-after must be at least 1s and --latency not negative")
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return bad("--listen %q: %v", *listen, err)
	}
	if !cwclient.IsLoopback(host) {
		return bad("--listen %q: the simulator serves plain http and only on loopback (127.0.0.1, ::1, localhost)", *listen)
	}
	sim := cwsim.New(cwsim.Options{
		Companies: *companies,
		Seed:      *seed,
		Faults: cwsim.Faults{
			Error500: *fail500, RateLimit: *fail429, RetryAfter: *retryAfter,
			Latency: *latency, LostResponse: *lose,
			SlowCommit: *slow, ZeroIDAnswer: *broken, HangUp: *hangUp,
		},
	})
	if err := sim.Listen(*listen); err != nil {
		fmt.Fprintf(e.stderr, "cwbridge cwsim: %v\n", err)
		return exitFail
	}
	defer sim.Close()
	fmt.Fprintf(e.stdout, "# ConnectWise simulator on %s (%d companies, seed %d). Paste into cwbridge.toml:\n", sim.URL(), *companies+1, *seed)
	fmt.Fprint(e.stdout, sim.TOMLBlock())
	fmt.Fprintln(e.stderr, "cwsim: serving; press Ctrl-C to stop")
	<-ctx.Done()
	return exitOK
}
