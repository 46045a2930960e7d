package tui

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

// esc followed at once by a key acts on both. The bytes go through Bubble
// Tea's own input reader, which reads ESC and a key that follow each other
// as one alt+key.
func TestEscThenKeyAtOnce(t *testing.T) {
	st := fixture(t)
	a := New(context.Background(), Options{Store: st, Now: tu.Now, NoTicks: true, Version: "test",
		Backend:   &tu.Backend{H: fixedHealth()},
		NewClient: func(storage.Connection) (*cwclient.Client, error) { return nil, errors.New("offline") }})
	in, w := io.Pipe()
	p := tea.NewProgram(a, tea.WithInput(in), tea.WithOutput(io.Discard), tea.WithWindowSize(120, 40))
	done := make(chan tea.Model, 1)
	go func() {
		m, err := p.Run()
		if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
			t.Error(err)
		}
		done <- m
	}()
	// Feed: open the detail (enter), then esc closes it and 2 switches to
	// Companies, sent together; then quit.
	if _, err := w.Write([]byte("\r")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("\x1b2")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	var m tea.Model
	select {
	case m = <-done:
	case <-time.After(10 * time.Second):
		p.Kill()
		t.Fatal("the program did not quit")
	}
	w.Close()
	if got := m.(*App).Active(); got != common.PageCompanies {
		t.Fatalf("esc then 2 at once: on %v, want Companies", got)
	}
}
