package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/intake"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui"
)

// runDemo starts the simulator, a data dir, the engine and a stream of
// sample incidents, then opens the TUI at the wizard with the simulator's
// credentials filled in.
func runDemo(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "demo", "demo [--data DIR] [--companies N] [--every D] [--seed S]")
	dataDir := fs.String("data", "", "keep the demo's state in this directory (default: a temporary one, removed on exit)")
	companies := fs.Int("companies", 500, "client companies in the simulator")
	every := fs.Duration("every", 2*time.Second, "one sample incident this often")
	seed := fs.Int64("seed", 1, "seed for the simulator and the incidents")
	if code := parseFlags(e, fs, args); code >= 0 {
		return code
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "cwbridge demo: "+format+"\n", a...)
		return exitConfig
	}
	switch {
	case *companies < 1 || *companies > 100000:
		return bad("--companies must be between 1 and 100000, got %d", *companies)
	case *every < 100*time.Millisecond:
		return bad("--every must be at least 100ms, got %v", *every)
	}
	// A closed terminal (SIGHUP) ends the demo like ctrl+c, so the
	// temporary data dir is removed.
	ctx, stopHup := signal.NotifyContext(ctx, syscall.SIGHUP)
	defer stopHup()
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "cwbridge-demo-")
		if err != nil {
			fmt.Fprintf(e.stderr, "cwbridge demo: %v\n", err)
			return exitFail
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	st, err := storage.Open(dir, storage.Options{})
	if err != nil {
		fmt.Fprintf(e.stderr, "cwbridge demo: %v\n", err)
		return exitFail
	}
	defer st.Close()

	// A kept data dir knows tickets of earlier runs: this simulator numbers
	// its tickets after them, so a number never means two incidents.
	sim := cwsim.New(cwsim.Options{Companies: *companies, Seed: *seed, FirstTicketID: highestTicket(st) + 1})
	if err := sim.Listen(demoListen(st)); err != nil {
		if err := sim.Listen("127.0.0.1:0"); err != nil {
			fmt.Fprintf(e.stderr, "cwbridge demo: simulator: %v\n", err)
			return exitFail
		}
	}
	defer sim.Close()
	cr := sim.Credentials()
	prefill := storage.Connection{Site: cr.Site, CompanyID: cr.CompanyID, PublicKey: cr.PublicKey,
		PrivateKey: storage.NewSecret(cr.PrivateKey), ClientID: cr.ClientID, APIVersion: cr.APIVersion, FallbackCompany: "Catchall"}
	keys, err := seedDemo(st, sim, prefill)
	if err != nil {
		fmt.Fprintf(e.stderr, "cwbridge demo: %v\n", err)
		return exitFail
	}
	logf, log := fileLogger(filepath.Join(dir, "cwbridge.log"))
	if logf != nil {
		defer logf.Close()
	}
	cfg := config.Default()
	eng, err := engine.New(engine.Options{Store: st, Config: cfg, Logger: log, FoldWindow: 5 * time.Second})
	if err != nil {
		fmt.Fprintf(e.stderr, "cwbridge demo: %v\n", err)
		return exitFail
	}
	bg := newBackground(ctx)
	bg.goRun(eng.Run)
	bg.goRun(func(ctx context.Context) error { generate(ctx, eng, keys, *every, *seed); return nil })

	banner := fmt.Sprintf("Demo: a ConnectWise simulator runs at %s. Its credentials are filled in: press enter through the fields.", cr.Site)
	app := tui.New(bg.ctx, tui.Options{Store: st, Backend: eng, Config: cfg, Actor: "demo",
		Version: versionString(), Prefill: &prefill, Banner: banner})
	_, err = tea.NewProgram(app, tea.WithContext(bg.ctx)).Run()
	bg.stop(stopGrace)
	if err != nil && ctx.Err() == nil && !errors.Is(err, tea.ErrProgramKilled) {
		fmt.Fprintf(e.stderr, "cwbridge demo: %v\n", err)
		return exitFail
	}
	if *dataDir != "" {
		fmt.Fprintf(e.stdout, "demo state kept in %s\n", dir)
	}
	return exitOK
}

// demoListen reuses the simulator address a kept data dir was set up
// with, so its saved connection still works.
func demoListen(st *storage.Store) string {
	if c, err := st.Connection(); err == nil {
		if u, err := url.Parse(c.Site); err == nil && u.Scheme == "http" && cwclient.IsLoopback(u.Hostname()) {
			if _, _, err := net.SplitHostPort(u.Host); err == nil {
				return u.Host
			}
		}
	}
	return "127.0.0.1:0"
}

// demoTypes are the alert types the generator sends, with the board each
// route uses in the simulator.
var demoTypes = []struct{ alertType, board, typ string }{
	{"threat", "Security", "Incident"}, {"malware", "Security", "Incident"}, {"phishing", "Security", "Alert"},
	{"dns_block", "Network Operations", "Alert"}, {"anomalous_login", "Security", "Alert"},
}

// highestTicket is the largest ticket number the data dir knows (incident
// keys, incidents' feed events), 0 for a new one.
func highestTicket(st *storage.Store) int {
	n := 0
	if keys, err := st.IncidentKeys(); err == nil {
		for _, k := range keys {
			n = max(n, k.TicketID)
		}
	}
	if evs, err := st.Feed(0, 0); err == nil {
		for _, ev := range evs {
			n = max(n, ev.TicketID)
		}
	}
	return n
}

// simulated reports whether c points at a demo simulator (plain http on
// loopback), whose address and keys change from run to run.
func simulated(c storage.Connection) bool {
	u, err := url.Parse(c.Site)
	return err == nil && u.Scheme == "http" && cwclient.IsLoopback(u.Hostname())
}

// withSim is c with this run's simulator credentials.
func withSim(c, sim storage.Connection) storage.Connection {
	c.Site, c.CompanyID, c.PublicKey, c.PrivateKey, c.ClientID = sim.Site, sim.CompanyID, sim.PublicKey, sim.PrivateKey, sim.ClientID
	return c
}

// seedDemo adds routes and a few workspaces the first time, and points a
// kept connection, and half-done wizards' saved drafts, at this run's
// simulator. It returns the workspace keys.
func seedDemo(st *storage.Store, sim *cwsim.Server, conn storage.Connection) ([]string, error) {
	var keys []string
	err := st.Update(func(t *storage.Tx) error {
		if old, err := t.Connection(); err == nil && simulated(old) && !sameSim(old, conn) {
			if err := t.SetConnection("demo", withSim(old, conn)); err != nil {
				return err
			}
		}
		if o, err := t.Onboarding(); err == nil && o.Step != "done" && simulated(o.Draft) && !sameSim(o.Draft, conn) {
			o.Draft = withSim(o.Draft, conn)
			o.VerifiedAt = time.Time{} // verified against another simulator: verify again
			if err := t.SetOnboarding(o); err != nil {
				return err
			}
		}
		drafts, err := t.Drafts()
		if err != nil {
			return err
		}
		for actor, o := range drafts {
			if simulated(o.Draft) && !sameSim(o.Draft, conn) {
				o.Draft = withSim(o.Draft, conn)
				o.VerifiedAt = time.Time{}
				if err := t.SetDraft(actor, o); err != nil {
					return err
				}
			}
		}
		rs, err := t.Routes()
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			for _, d := range demoTypes {
				r := storage.Route{AlertType: d.alertType, Enabled: true, Board: storage.Ref{Name: d.board},
					Status: storage.Ref{Name: "New"}, Priority: storage.Ref{Name: "Priority 2 - Quick Response"},
					Type: storage.Ref{Name: d.typ}, ClosedStatus: storage.Ref{Name: "Closed"}}
				if err := t.PutRoute("demo", r); err != nil {
					return err
				}
			}
		}
		ws, err := t.Workspaces()
		if err != nil {
			return err
		}
		if len(ws) == 0 {
			for i, co := range sim.Records("companies") {
				if i >= 5 {
					break
				}
				ident, _ := co["identifier"].(string)
				if ident == "" || ident == "Catchall" {
					continue
				}
				w := storage.Workspace{Key: strings.ToLower(ident), CWCompany: ident, PreferredServer: "us-west", MaxUsers: 25 * (i + 1)}
				if err := t.PutWorkspace("demo", w); err != nil {
					return err
				}
				ws = append(ws, w)
			}
		}
		for _, w := range ws {
			keys = append(keys, w.Key)
		}
		return nil
	})
	return keys, err
}

func sameSim(a, b storage.Connection) bool {
	return a.Site == b.Site && a.CompanyID == b.CompanyID && a.PublicKey == b.PublicKey && a.PrivateKey.Equal(b.PrivateKey) && a.ClientID == b.ClientID
}

// submitter is the part of the engine the generator uses.
type submitter interface {
	Submit(ctx context.Context, incs []storage.Incident) (accepted, duplicates int, err error)
}

var demoTitles = map[string][]string{
	"threat":          {"Ransomware behaviour on %s", "Credential dumping tool on %s"},
	"malware":         {"Malware quarantined on %s", "Trojan download blocked on %s"},
	"phishing":        {"Phishing link clicked by %s", "Credential phishing page visited by %s"},
	"dns_block":       {"DNS lookup of a C2 domain from %s", "DNS request to newly registered domain from %s"},
	"anomalous_login": {"Impossible travel sign-in for %s", "Sign-in from a new country for %s"},
}

var (
	// Ann Smith and PC-7 are a contact and a configuration of the first
	// simulated company, so the demo's tickets show linking too.
	demoUsers   = []string{"j.doe", "a.smith", "m.garcia", "l.chen", "r.patel", "s.okafor", "ann.smith@acmedentalgroup.example", "Ann Smith"}
	demoDevices = []string{"LAPTOP-07", "DESKTOP-12", "MBP-ANNA", "SRV-FILE01", "LAPTOP-22", "PC-7"}
	demoSev     = []string{"low", "medium", "medium", "high", "critical"}
)

// generate submits realistic incidents: new ones, repeats of open keys
// (notes), resolves (closes), and now and then an unknown tenant (the
// fallback company).
func generate(ctx context.Context, eng submitter, workspaces []string, every time.Duration, seed int64) {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(time.Now().UnixNano())))
	var opened []storage.Incident
	tick := time.NewTicker(every)
	defer tick.Stop()
	n := 0
	run := time.Now().Unix()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n++
		var inc storage.Incident
		switch r := rng.IntN(100); {
		case r < 30 && len(opened) > 0: // repeat: becomes a note
			inc = opened[rng.IntN(len(opened))]
		case r < 45 && len(opened) > 0: // resolve: closes the ticket
			i := rng.IntN(len(opened))
			inc = opened[i]
			inc.Status = "resolved"
			opened = append(opened[:i], opened[i+1:]...)
		default:
			d := demoTypes[rng.IntN(len(demoTypes))]
			company := "unknown-tenant"
			if len(workspaces) > 0 && rng.IntN(10) > 0 {
				company = workspaces[rng.IntN(len(workspaces))]
			}
			user, dev := demoUsers[rng.IntN(len(demoUsers))], demoDevices[rng.IntN(len(demoDevices))]
			subject := dev
			if d.alertType == "phishing" || d.alertType == "anomalous_login" {
				subject = user
			}
			titles := demoTitles[d.alertType]
			inc = storage.Incident{Type: d.alertType, Company: company, Severity: demoSev[rng.IntN(len(demoSev))],
				Title: fmt.Sprintf(titles[rng.IntN(len(titles))], subject), User: user, Device: dev,
				SourceIP: fmt.Sprintf("203.0.113.%d", 1+rng.IntN(254)), Reasons: []string{"matched policy " + d.alertType}}
			if inc.Status == "" {
				opened = append(opened, inc)
			}
			if len(opened) > 12 {
				opened = opened[1:]
			}
		}
		inc.ID = fmt.Sprintf("demo-%d-%d", run, n)
		now := time.Now().UTC()
		inc.OccurredAt = now
		if inc.Status == "" {
			inc.Status = "firing"
		}
		inc.Key = intake.DefaultKey(inc.Company, inc.Type, inc.Title)
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, _, _ = eng.Submit(sctx, []storage.Incident{inc}) // a full queue just skips one sample
		cancel()
	}
}
