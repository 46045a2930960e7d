// Package testutil drives TUI models in tests: key messages, a command
// runner that feeds results back, golden files, a store and a fake engine.
package testutil

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Key builds a key press from its name: "enter", "esc", "ctrl+c", "a".
func Key(name string) tea.KeyPressMsg {
	special := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "backspace": tea.KeyBackspace,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"space": tea.KeySpace, "delete": tea.KeyDelete,
	}
	var mod tea.KeyMod
	for {
		switch {
		case strings.HasPrefix(name, "ctrl+") && len(name) > 5:
			mod |= tea.ModCtrl
			name = name[5:]
			continue
		case strings.HasPrefix(name, "shift+") && len(name) > 6:
			mod |= tea.ModShift
			name = name[6:]
			continue
		}
		break
	}
	if r, ok := special[name]; ok {
		k := tea.KeyPressMsg{Code: r, Mod: mod}
		if r == tea.KeySpace && mod == 0 {
			k.Text = " "
		}
		return k
	}
	r := []rune(name)[0]
	k := tea.KeyPressMsg{Code: r, Mod: mod}
	if mod == 0 {
		k.Text = name
	}
	return k
}

// Keys turns text into one key press per rune.
func Keys(text string) []tea.Msg {
	var out []tea.Msg
	for _, r := range text {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

// Driver feeds messages to an update function and runs the commands it
// returns (concurrently, as Bubble Tea does), feeding their results back
// until none is left. Timer messages (spinner ticks) are dropped so
// nothing loops on time.
type Driver struct {
	T      testing.TB
	Update func(tea.Msg) tea.Cmd
	// Wait bounds how long Send waits for outstanding commands (a
	// failure, not a pace: Send returns as soon as they are done).
	Wait time.Duration
	// Subscription waits (common.IsWatch) block until the next storage
	// change: they run in the background and are not waited for; what they
	// deliver is handled by the next Run or WaitFor.

	watched chan tea.Msg

	Quit bool
	Seen []tea.Msg // every message fed back, in order

	// AsRoot makes the driver stand in for the root in front of one page:
	// it keeps the status line and the question (common.StatusMsg,
	// ConfirmMsg) and answers the question with the next key.
	AsRoot  bool
	Status  common.StatusMsg
	Confirm *common.ConfirmMsg
}

// Send feeds msgs one by one, each followed by its commands' results.
func (d *Driver) Send(msgs ...tea.Msg) {
	d.T.Helper()
	for _, m := range msgs {
		if k, ok := m.(tea.KeyPressMsg); ok && d.Confirm != nil {
			c := d.Confirm
			d.Confirm = nil
			if k.String() == "y" || k.String() == "Y" {
				d.Run(c.Yes)
			}
			continue
		}
		d.Run(d.Update(m))
	}
}

// Type sends text as key presses.
func (d *Driver) Type(text string) { d.T.Helper(); d.Send(Keys(text)...) }

// Press sends named keys.
func (d *Driver) Press(names ...string) {
	d.T.Helper()
	for _, n := range names {
		d.Send(Key(n))
	}
}

// Run executes cmd and everything that follows from it, except
// subscription waits (see WaitFor).
func (d *Driver) Run(cmd tea.Cmd) { d.T.Helper(); d.run(cmd, nil) }

// WaitFor handles results, subscriptions' included, until cond holds:
// for what arrives through a subscription (a list that follows the store).
func (d *Driver) WaitFor(cond func() bool) {
	d.T.Helper()
	d.run(nil, cond)
}

func (d *Driver) run(cmd tea.Cmd, cond func() bool) {
	d.T.Helper()
	wait := d.Wait
	if wait == 0 {
		wait = 10 * time.Second
	}
	if d.watched == nil {
		d.watched = make(chan tea.Msg, 64)
	}
	results := make(chan tea.Msg, 64)
	outstanding := 0
	var start func(tea.Cmd)
	start = func(c tea.Cmd) {
		switch {
		case c == nil:
			return
		case common.IsWatch(c):
			go func() { d.watched <- c() }()
			return
		}
		outstanding++
		go func() { results <- c() }()
	}
	handle := func(msg tea.Msg) {
		for _, m := range d.expand(msg, start) {
			d.Seen = append(d.Seen, m)
			start(d.Update(m))
		}
	}
	start(cmd)
	deadline := time.After(wait)
	for outstanding > 0 || (cond != nil && !cond()) {
		select {
		case msg := <-results:
			outstanding--
			handle(msg)
		case msg := <-d.watched:
			handle(msg)
		case <-deadline:
			if outstanding > 0 {
				d.T.Fatalf("testutil: %d command(s) still running after %v", outstanding, wait)
			}
			d.T.Fatalf("testutil: the condition did not hold within %v", wait)
		}
	}
}

// expand unpacks batches and sequences (starting their commands) and
// drops timer messages; what remains is fed to Update.
func (d *Driver) expand(msg tea.Msg, start func(tea.Cmd)) []tea.Msg {
	switch m := msg.(type) {
	case nil:
		return nil
	case tea.BatchMsg:
		for _, c := range m {
			start(c)
		}
		return nil
	case tea.QuitMsg:
		d.Quit = true
		return nil
	case spinner.TickMsg:
		return nil
	case common.StatusMsg:
		if d.AsRoot {
			d.Status = m
			return nil
		}
	case common.ConfirmMsg:
		if d.AsRoot {
			d.Confirm = &m
			return nil
		}
	case common.PageMsg:
		if _, ok := m.Msg.(spinner.TickMsg); ok {
			return nil
		}
	}
	// tea.Sequence's message type is unexported: a slice of commands.
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		for i := range v.Len() {
			start(v.Index(i).Interface().(tea.Cmd))
		}
		return nil
	}
	if reflect.TypeOf(msg).String() == "tea.backgroundColorMsg" || strings.HasSuffix(reflect.TypeOf(msg).String(), "backgroundColorMsg") {
		return nil
	}
	return []tea.Msg{msg}
}

// Golden compares got (ANSI stripped, trailing spaces kept) with
// testdata/<name>.golden; go test -update rewrites it.
func Golden(t testing.TB, name, got string) {
	t.Helper()
	got = ansi.Strip(got)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// Clock is a fixed time for screens and stores.
var Clock = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

// Now returns Clock.
func Now() time.Time { return Clock }

// Store opens a store in a temp dir with the fixed clock.
func Store(t testing.TB) *storage.Store {
	t.Helper()
	st, err := storage.Open(t.TempDir(), storage.Options{Now: Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Backend is a fake engine: it records calls and returns what it is told.
type Backend struct {
	mu         sync.Mutex
	H          common.Health
	TicketID   int
	TicketErr  error
	Tests      []string // "alertType/workspace" per SendTestTicket
	Reconnects int
	Catalog    []engine.CatalogOutcome // what EnsureCatalogItems answers
	Ensured    int                     // EnsureCatalogItems calls

	// Billing: what BillingStatus, BillingPlan and SyncBilling return,
	// and how often the last two were called.
	Billing      engine.BillingStatus
	BillingErr   error
	Plan         engine.BillingPlan
	PlanErr      error
	Synced       engine.BillingPlan
	SyncErr      error
	Plans, Syncs int
}

// WatchHealth delivers H once; the channel closes with ctx.
func (b *Backend) WatchHealth(ctx context.Context) <-chan common.Health {
	b.mu.Lock()
	defer b.mu.Unlock()
	ch := make(chan common.Health, 1)
	ch <- b.H
	context.AfterFunc(ctx, func() { close(ch) })
	return ch
}
func (b *Backend) SendTestTicket(_ context.Context, alertType, workspace string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Tests = append(b.Tests, alertType+"/"+workspace)
	return b.TicketID, b.TicketErr
}
func (b *Backend) Reconnect() { b.mu.Lock(); b.Reconnects++; b.mu.Unlock() }

func (b *Backend) EnsureCatalogItems(context.Context) []engine.CatalogOutcome {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Ensured++
	return b.Catalog
}

func (b *Backend) BillingStatus() (engine.BillingStatus, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Billing, b.BillingErr
}
func (b *Backend) BillingPlan(context.Context) (engine.BillingPlan, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Plans++
	return b.Plan, b.PlanErr
}
func (b *Backend) SyncBilling(context.Context) (engine.BillingPlan, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Syncs++
	return b.Synced, b.SyncErr
}

// Calls reports how many plans and syncs were asked for (race-free).
func (b *Backend) Calls() (plans, syncs int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Plans, b.Syncs
}

// ClientFor builds a plain client for conn (tests have no engine).
func (b *Backend) ClientFor(conn storage.Connection) (*cwclient.Client, error) {
	return NewClient(conn)
}

// NewClient builds a plain client for conn with no rate ceiling.
func NewClient(conn storage.Connection) (*cwclient.Client, error) {
	return cwclient.New(cwclient.Config{
		Site: conn.Site, CompanyID: conn.CompanyID, PublicKey: conn.PublicKey,
		PrivateKey: conn.PrivateKey.Reveal(), ClientID: conn.ClientID, APIVersion: conn.APIVersion,
		UserAgent: "cwbridge-test", Timeout: 20 * time.Second,
	})
}

// Common builds per-session services over st with the fixed clock and no
// periodic ticks.
func Common(st *storage.Store, b common.Backend) *common.Common {
	return &common.Common{
		Ctx: context.Background(), Store: st, Backend: b, Now: Now, Styles: common.DefaultStyles(true),
		Keys: common.DefaultKeys(), Actor: "test", NoTicks: true,
		NewClient: NewClient,
	}
}

// PageUpdate adapts a page to Driver.Update, unwrapping routed messages
// as the root does.
func PageUpdate(p common.Page) func(tea.Msg) tea.Cmd {
	return func(msg tea.Msg) tea.Cmd {
		if pm, ok := msg.(common.PageMsg); ok {
			msg = pm.Msg
		}
		return p.Update(msg)
	}
}
