package feed

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

func events(n int) []storage.FeedEvent {
	kinds := []storage.FeedKind{storage.FeedCreated, storage.FeedNoted, storage.FeedClosed, storage.FeedAction, storage.FeedFailed, storage.FeedDropped}
	out := make([]storage.FeedEvent, n)
	for i := range out {
		out[i] = storage.FeedEvent{Seq: uint64(i + 1), Time: tu.Clock.Add(time.Duration(i-n) * time.Second), Kind: kinds[i%len(kinds)],
			Company: []string{"acme", "northwind", "contoso"}[i%3], Severity: []string{"low", "medium", "high", "critical"}[i%4],
			Key: fmt.Sprintf("k%d", i/4), TicketID: 250000 + i/4, Message: fmt.Sprintf("event %d", i+1)}
	}
	return out
}

func newPage(t testing.TB, st *storage.Store) *Model {
	m := New(tu.Common(st, &tu.Backend{}))
	m.SetSize(100, 30)
	return m
}

func screen(m *Model) string { return ansi.Strip(m.View()) }

// TestLiveStream: events written to storage reach the page through the
// subscription, newest first.
func TestLiveStream(t *testing.T) {
	st := tu.Store(t)
	m := newPage(t, st)
	m.SetEvents(nil)
	wait := common.Watch(m.c, common.PageFeed, storage.ChangeFeed)
	for i := range 3 {
		if _, err := st.AppendFeed(storage.FeedEvent{Kind: storage.FeedCreated, Company: "acme", TicketID: 250001 + i, Message: fmt.Sprintf("live %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	for got < 3 {
		msg := wait().(common.PageMsg).Msg.(common.ChangesMsg)
		got += len(msg.Changes)
		m.Update(msg)
		wait = msg.Next
	}
	s := screen(m)
	if i0, i2 := strings.Index(s, "live 0"), strings.Index(s, "live 2"); i0 < 0 || i2 < 0 || i2 > i0 {
		t.Fatalf("want live 2 above live 0:\n%s", s)
	}
}

func TestFilters(t *testing.T) {
	m := newPage(t, tu.Store(t))
	m.SetEvents(events(60))
	d := &tu.Driver{T: t, Update: tu.PageUpdate(m)}
	d.Press("f") // created
	for _, i := range m.shown {
		if m.events[i].Kind != storage.FeedCreated {
			t.Fatalf("kind filter let %s through", m.events[i].Kind)
		}
	}
	d.Press("v", "v", "v") // high
	for _, i := range m.shown {
		if m.events[i].Severity != "high" {
			t.Fatalf("severity filter let %s through", m.events[i].Severity)
		}
	}
	d.Press("x", "/")
	d.Type("north")
	d.Press("enter")
	if len(m.shown) != 20 {
		t.Fatalf("company filter: %d shown, want 20", len(m.shown))
	}
	d.Press("x")
	for range kinds { // back to all kinds after a full cycle
		d.Press("f")
	}
	if len(m.shown) != 60 {
		t.Fatalf("after clearing: %d", len(m.shown))
	}
}

// TestSelectionStaysPut: new events do not move the selected one unless
// the view is following the newest.
func TestSelectionStaysPut(t *testing.T) {
	m := newPage(t, tu.Store(t))
	evs := events(20)
	m.SetEvents(evs[:10])
	d := &tu.Driver{T: t, Update: tu.PageUpdate(m)}
	d.Press("down", "down")
	sel, _ := m.selected()
	want := sel.Seq
	m.Append(evs[10:15])
	if sel, _ := m.selected(); sel.Seq != want {
		t.Fatalf("selection moved from %d to %d", want, sel.Seq)
	}
	d.Press("g")
	m.Append(evs[15:])
	if sel, _ := m.selected(); sel.Seq != 20 {
		t.Fatalf("at the top the view follows the newest, got %d", sel.Seq)
	}
}

func TestDetailShowsIncident(t *testing.T) {
	st := tu.Store(t)
	inc := storage.Incident{ID: "inc-1", Type: "malware", Company: "acme", Title: "Trojan on LAPTOP-07", Device: "LAPTOP-07", User: "j.doe", Key: "k"}
	if _, _, err := st.EnqueueIncidents(context.Background(), []storage.Incident{inc}); err != nil {
		t.Fatal(err)
	}
	m := newPage(t, st)
	m.SetEvents([]storage.FeedEvent{{Seq: 1, Time: tu.Clock, Kind: storage.FeedCreated, Company: "acme", IncidentID: "inc-1", Key: "k", Message: "created"}})
	d := &tu.Driver{T: t, Update: tu.PageUpdate(m)}
	d.Press("enter")
	s := screen(m)
	for _, want := range []string{"Trojan on LAPTOP-07", "j.doe", "malware"} {
		if !strings.Contains(s, want) {
			t.Fatalf("detail lacks %q:\n%s", want, s)
		}
	}
	d.Press("esc")
	if m.detail {
		t.Fatal("esc did not close the detail")
	}
}

func BenchmarkRender10k(b *testing.B) {
	m := newPage(b, tu.Store(b))
	m.SetSize(120, 40)
	m.SetEvents(events(Keep))
	b.ResetTimer()
	for i := range b.N {
		m.table.SetCursor(i % 500) // scrolling: a different window each frame
		_ = m.View()
	}
}

func BenchmarkAppendWhileShowing10k(b *testing.B) {
	m := newPage(b, tu.Store(b))
	m.SetEvents(events(Keep))
	extra := events(Keep + b.N)[Keep:]
	b.ResetTimer()
	for i := range b.N {
		m.Append(extra[i : i+1])
		_ = m.View()
	}
}

// Action output and ConnectWise note text reach the screen as one line
// each, without their escape sequences: a multi-line message keeps the
// table one row per event, and colour codes are not interpreted.
func TestHostileTextIsHarmless(t *testing.T) {
	st := tu.Store(t)
	m := newPage(t, st)
	m.SetEvents([]storage.FeedEvent{
		{Seq: 1, Time: tu.Clock, Kind: storage.FeedAction, TicketID: 250001, Company: "acme", Message: "Block User: done\n\nline one\nline two\x1b[31m RED\x1b[0m"},
		{Seq: 2, Time: tu.Clock, Kind: storage.FeedNoted, TicketID: 250002, Company: "acme", Message: "second \u202eevent\x1b]0;title\x07"},
	})
	raw := m.View()
	for _, bad := range []string{"\x1b[31m", "\x1b]0;", "\u202e"} {
		if strings.Contains(raw, bad) {
			t.Fatalf("the view carries %q from a message", bad)
		}
	}
	s := screen(m)
	var rows []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "#25000") {
			rows = append(rows, l)
		}
	}
	if len(rows) != 2 || !strings.Contains(rows[0]+rows[1], "Block User: done ⏎ line one") {
		t.Fatalf("want one row per event:\n%s", s)
	}
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "line two") {
			t.Fatalf("a message line broke out of its row:\n%s", s)
		}
	}
}

// TestBillingEvents: what a billing sync writes to the feed shows with
// the kind "billing", the kind filter reaches it, and its details list the
// history of that workspace and product only.
func TestBillingEvents(t *testing.T) {
	st := tu.Store(t)
	for _, ev := range []storage.FeedEvent{
		{Kind: storage.FeedCreated, Company: "acme", Key: "users", TicketID: 250001, Message: "an incident whose key is users"},
		{Kind: storage.FeedBilling, Key: "users", Message: "catalog item SEC-USER created"},
		{Kind: storage.FeedBilling, Company: "acme", Key: "users", Message: "acme: addition SEC-USER created on agreement 1001, quantity 40"},
		{Kind: storage.FeedBilling, Company: "northwind", Key: "users", Message: "northwind: users not billed: workspace northwind has no agreement"},
		{Kind: storage.FeedBilling, Company: "acme", Key: "users", Message: "acme: addition SEC-USER on agreement 1001 changed 40 → 45"},
	} {
		if _, err := st.AppendFeed(ev); err != nil {
			t.Fatal(err)
		}
	}
	m := newPage(t, st)
	d := &tu.Driver{T: t, Update: tu.PageUpdate(m)}
	d.Run(m.Init())
	if s := screen(m); !strings.Contains(s, "billing") || !strings.Contains(s, "changed 40") {
		t.Fatalf("billing events not listed:\n%s", s)
	}
	for kinds[m.kind] != storage.FeedBilling {
		d.Press("f")
		if m.kind == 0 {
			t.Fatal("the kind filter never offers billing")
		}
	}
	if len(m.shown) != 4 || !strings.Contains(m.filterLine(), "billing") {
		t.Fatalf("billing filter shows %d events, want 4 (%s)", len(m.shown), m.filterLine())
	}
	for _, i := range m.shown {
		if m.events[i].Kind != storage.FeedBilling {
			t.Fatalf("billing filter let %s through", m.events[i].Kind)
		}
	}
	d.Press("enter") // the newest: acme's change
	s := strings.Join(strings.Fields(screen(m)), " ")
	if !strings.Contains(s, "This workspace and product") || !strings.Contains(s, "quantity 40") {
		t.Fatalf("detail lacks acme's history:\n%s", screen(m))
	}
	if strings.Contains(s, "no agreement") || strings.Contains(s, "whose key is users") {
		t.Fatalf("history mixes in another workspace or an incident:\n%s", screen(m))
	}
}
