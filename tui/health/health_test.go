package health

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	tu "github.com/cwbridge/cwbridge/tui/internal/testutil"
)

func TestRetryAndDiscard(t *testing.T) {
	st := tu.Store(t)
	for _, ref := range []string{"a", "b", "c"} {
		seq, err := st.Enqueue(storage.OutboxIncident, ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.MoveToFailed(seq, "board not found: "+ref); err != nil {
			t.Fatal(err)
		}
	}
	m := New(tu.Common(st, &tu.Backend{}))
	m.SetSize(100, 30)
	d := &tu.Driver{T: t, Update: tu.PageUpdate(m), AsRoot: true}
	d.Run(m.Init())
	d.Send(common.HealthMsg{Health: common.Health{ConnectWise: "ok", Failed: 3, LastError: "board not found: c"}})
	s := ansi.Strip(m.View())
	if !strings.Contains(s, "Failed work (3)") || !strings.Contains(s, "board not found: a") {
		t.Fatalf("failed items not listed:\n%s", s)
	}
	d.Press("r")
	if st.QueueLen() != 1 || len(m.failed) != 2 {
		t.Fatalf("retry: queue %d, failed %d", st.QueueLen(), len(m.failed))
	}
	d.Press("x")
	if d.Confirm == nil || !strings.Contains(d.Confirm.Prompt, "Discard item") {
		t.Fatal("discard asks first")
	}
	d.Press("n")
	if len(m.failed) != 2 {
		t.Fatal("discarded without yes")
	}
	d.Press("x", "y")
	if items, _ := st.FailedItems(); len(items) != 1 {
		t.Fatalf("discard: %d left", len(items))
	}
	d.Press("R", "y")
	if items, _ := st.FailedItems(); len(items) != 0 || st.QueueLen() != 2 {
		t.Fatalf("retry all: %d failed, queue %d", len(items), st.QueueLen())
	}
}

// The list may reload while "discard?" is showing (another session, the
// engine): the answer applies to the item that was asked about.
func TestDiscardAsksAboutOneItem(t *testing.T) {
	st := tu.Store(t)
	var seqs []uint64
	for _, ref := range []string{"a", "b"} {
		seq, err := st.Enqueue(storage.OutboxIncident, ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.MoveToFailed(seq, "board not found: "+ref); err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	m := New(tu.Common(st, &tu.Backend{}))
	m.SetSize(100, 30)
	d := &tu.Driver{T: t, Update: tu.PageUpdate(m), AsRoot: true}
	d.Run(m.Init())
	d.Press("x") // asks about a
	items := m.failed
	d.Send(failedMsg{})
	_ = m.View() // nothing under the cursor now
	d.Send(failedMsg{items: items[1:]})
	d.Press("y")
	left, _ := st.FailedItems()
	if len(left) != 1 || left[0].Seq != seqs[1] {
		t.Fatalf("left %+v, want only %d", left, seqs[1])
	}
}

// Every key says what it did, also when there is nothing to do.
func TestKeysAlwaysAnswer(t *testing.T) {
	m := New(tu.Common(tu.Store(t), &tu.Backend{}))
	m.SetSize(100, 30)
	d := &tu.Driver{T: t, Update: tu.PageUpdate(m), AsRoot: true}
	d.Run(m.Init())
	for _, k := range []string{"l", "R", "r", "x"} {
		d.Status = common.StatusMsg{}
		d.Press(k)
		if d.Status.Text == "" {
			t.Errorf("%s with no failed items says nothing", k)
		}
	}
}
