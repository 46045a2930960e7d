package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/cwsim"
	"github.com/cwbridge/cwbridge/storage"
)

// actionScript writes a command that appends its stdin (one JSON line) to
// a log and prints "blocked"; it returns the TOML and the log path.
func actionScript(t *testing.T) (toml, log string) {
	dir := t.TempDir()
	log = filepath.Join(dir, "runs.log")
	script := filepath.Join(dir, "act.sh")
	body := "#!/bin/sh\ncat >> '" + log + "'\necho >> '" + log + "'\necho blocked\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return "\n[actions]\ncommand = \"" + script + "\"\n", log
}

func readRuns(t *testing.T, log string) []ActionRequest {
	t.Helper()
	f, err := os.Open(log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []ActionRequest
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var req ActionRequest
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			t.Fatalf("command got %q: %v", sc.Text(), err)
		}
		out = append(out, req)
	}
	return out
}

// answers returns the engine's internal-analysis notes on a ticket.
func (r *rig) answers(ticket int) []string {
	var out []string
	for _, n := range r.sim.Records("notes") {
		if num(n["ticketId"]) == ticket && n["internalAnalysisFlag"] == true {
			out = append(out, n["text"].(string))
		}
	}
	return out
}

// techNote adds a note to a ticket as a technician would.
func (r *rig) techNote(ticket int, text string, resolution bool) int {
	r.t.Helper()
	n := cwclient.Note{Text: text, ResolutionFlag: resolution, DetailDescriptionFlag: !resolution}
	got, err := r.eng.Client().AddNote(context.Background(), ticket, n)
	if err != nil {
		r.t.Fatal(err)
	}
	return got.ID
}

// parkedAction opens a ticket, adds a technician's resolution note naming
// action, and polls with the engine stopped, so the action item waits in
// the outbox untouched. It returns the ticket and the item.
func (r *rig) parkedAction(id, key, action string) (int, storage.OutboxItem) {
	r.t.Helper()
	ticket := r.openTicket(id, key)
	r.techNote(ticket, action, true)
	r.halt()
	r.poll()
	items := r.outboxItems()
	if len(items) != 1 || items[0].Kind != storage.OutboxAction {
		r.t.Fatalf("outbox: %+v", items)
	}
	return ticket, items[0]
}

func (r *rig) poll() {
	r.t.Helper()
	if err := r.eng.actions.poll(context.Background()); err != nil {
		r.t.Fatal(err)
	}
}

func TestActionRunsOnce(t *testing.T) {
	toml, log := actionScript(t)
	r := newRig(t, cwsim.Options{}, toml, nil)
	in := inc("a1", "ka", "firing")
	in.User, in.Device = "ann@acme.test", "PC-7"
	r.submit(in)
	ticket := r.waitSettled(10*time.Second, "a1")["a1"].TicketID

	// Notes that name no action, or not on the first line, or that are
	// not resolution notes, are ignored.
	r.techNote(ticket, "Called the customer, waiting.", true)
	r.techNote(ticket, "Looked at it.\nBlock User", true)
	r.techNote(ticket, "Block User", false)
	r.poll()
	r.waitDrained(5 * time.Second)
	if runs := readRuns(t, log); len(runs) != 0 {
		t.Fatalf("ran for notes naming no action: %+v", runs)
	}
	if a := r.answers(ticket); len(a) != 0 {
		t.Fatalf("answered notes naming no action: %q", a)
	}

	noteID := r.techNote(ticket, "Block User\nann clicked the phishing link", true)
	r.poll()
	r.waitFor(10*time.Second, "the answer", func() bool { return len(r.answers(ticket)) == 1 })
	runs := readRuns(t, log)
	if len(runs) != 1 {
		t.Fatalf("%d runs: %+v", len(runs), runs)
	}
	want := ActionRequest{Action: "Block User", Ticket: ticket, IncidentKey: scopedKey("acme", "ka"), User: "ann@acme.test", Device: "PC-7",
		Note: "Block User\nann clicked the phishing link", Member: "cwbridgeapi"}
	if runs[0] != want {
		t.Fatalf("command input %+v, want %+v", runs[0], want)
	}
	if a := r.answers(ticket)[0]; !strings.HasPrefix(a, "cwbridge: Block User: done") || !strings.Contains(a, "blocked") {
		t.Fatalf("answer: %q", a)
	}
	r.waitFor(5*time.Second, "the feed event", func() bool {
		feed, _ := r.store.RecentFeed(20)
		last := feed[len(feed)-1]
		return last.Kind == storage.FeedAction && last.TicketID == ticket && strings.Contains(last.Message, "Block User: done")
	})

	// Polling again (the answer touched the ticket) and after a restart
	// (a new engine polls from scratch): never a second run.
	r.poll()
	r.waitDrained(5 * time.Second)
	r.restart(nil)
	r.poll()
	r.waitDrained(5 * time.Second)
	time.Sleep(50 * time.Millisecond)
	if runs := readRuns(t, log); len(runs) != 1 {
		t.Fatalf("%d runs after polling again and a restart", len(runs))
	}
	if a := r.answers(ticket); len(a) != 1 {
		t.Fatalf("answers: %q", a)
	}
	_ = noteID
}

// TestActionNotRerunAfterFailedNoteRead: reading the note fails (500s)
// before the command starts; the retry runs the command, rather than
// reporting it "interrupted" and never running it.
func TestActionNotRerunAfterFailedNoteRead(t *testing.T) {
	toml, log := actionScript(t)
	r := newRig(t, cwsim.Options{}, toml, nil)
	ticket, _ := r.parkedAction("e1", "ke", "Isolate Device")
	r.sim.SetFaults(cwsim.Faults{Error500: 1})
	r.start()
	r.waitFor(10*time.Second, "a failed attempt", func() bool {
		items := r.outboxItems()
		return len(items) == 1 && items[0].Attempts >= 1
	})
	r.sim.SetFaults(cwsim.Faults{})
	r.waitFor(10*time.Second, "the answer", func() bool { return len(r.answers(ticket)) == 1 })
	if a := r.answers(ticket)[0]; !strings.HasPrefix(a, "cwbridge: Isolate Device: done") {
		t.Fatalf("answer: %q", a)
	}
	if runs := readRuns(t, log); len(runs) != 1 || runs[0].Action != "Isolate Device" {
		t.Fatalf("runs: %+v", runs)
	}
}

// TestActionAnswerNotDoubled: the answer's post is committed but its reply
// lost; the retry finds it instead of posting it again, and the command is
// not run again.
func TestActionAnswerNotDoubled(t *testing.T) {
	toml, log := actionScript(t)
	r := newRig(t, cwsim.Options{}, toml, nil)
	ticket := r.openTicket("l1", "kl")
	r.techNote(ticket, "Block User", true)
	r.sim.SetFaults(cwsim.Faults{LostResponse: 1})
	r.poll()
	r.waitFor(10*time.Second, "the lost answer", func() bool { return r.sim.Stats().Lost >= 1 && len(r.answers(ticket)) == 1 })
	r.sim.SetFaults(cwsim.Faults{})
	r.waitDrained(5 * time.Second)
	if a := r.answers(ticket); len(a) != 1 {
		t.Fatalf("answers: %q", a)
	}
	if runs := readRuns(t, log); len(runs) != 1 {
		t.Fatalf("runs: %+v", runs)
	}
}

// TestActionWithoutCommand: with no [actions] command the technician is
// told so on the ticket.
func TestActionWithoutCommand(t *testing.T) {
	r := newRig(t, cwsim.Options{}, "", nil)
	ticket := r.openTicket("n1", "kn")
	r.techNote(ticket, "Release Device.", true)
	r.poll()
	r.waitFor(10*time.Second, "the answer", func() bool { return len(r.answers(ticket)) == 1 })
	if a := r.answers(ticket)[0]; !strings.Contains(a, "Release Device was not run") || !strings.Contains(a, "no [actions] command") {
		t.Fatalf("answer: %q", a)
	}
}

// TestActionInterruptedIsNotRerun: cwbridge stopped while the command ran
// (the running marker is on disk): after a restart the technician is told,
// and the command is not run a second time.
func TestActionInterruptedIsNotRerun(t *testing.T) {
	toml, log := actionScript(t)
	r := newRig(t, cwsim.Options{}, toml, nil)
	ticket, item := r.parkedAction("i1", "ki", "Block User")
	if err := r.store.Reschedule(item.Seq, time.Now(), markRunning); err != nil {
		t.Fatal(err)
	}
	r.restart(nil)
	r.waitFor(10*time.Second, "the answer", func() bool { return len(r.answers(ticket)) == 1 })
	if a := r.answers(ticket)[0]; !strings.HasPrefix(a, "cwbridge: interrupted") {
		t.Fatalf("answer: %q", a)
	}
	if runs := readRuns(t, log); len(runs) != 0 {
		t.Fatalf("re-ran an interrupted action: %+v", runs)
	}
}

// TestActionNotRerunWhenAnswerFailsOnLastAttempts: the command ran on an
// item already near its attempt limit and the answer's post failed. The
// item is given up on; its "done" record must not be overwritten by a
// plain retry, which would run the command a second time.
func TestActionNotRerunWhenAnswerFailsOnLastAttempts(t *testing.T) {
	toml, log := actionScript(t)
	r := newRig(t, cwsim.Options{}, toml, nil)
	_, item := r.parkedAction("x1", "kx", "Block User")
	// Earlier attempts failed before the command started (reading the note).
	for range r.eng.o.MaxAttempts - 3 {
		if err := r.store.Reschedule(item.Seq, time.Now(), "reading the note failed"); err != nil {
			t.Fatal(err)
		}
	}
	r.loseAnswers("POST", "/notes")
	r.start()
	r.waitFor(10*time.Second, "the item to settle", func() bool {
		failed, _ := r.store.FailedItems()
		return len(failed) == 1 || len(readRuns(t, log)) > 1
	})
	r.halt()
	if runs := readRuns(t, log); len(runs) != 1 {
		t.Fatalf("%d runs of one action: %+v", len(runs), runs)
	}
	// An admin retries the failed item from Health once ConnectWise takes
	// notes again: the answer is posted, the command is not run again.
	failed, _ := r.store.FailedItems()
	if len(failed) != 1 {
		t.Fatalf("failed items: %+v", failed)
	}
	r.loseWhen(nil)
	if _, err := r.store.RetryFailed(failed[0].Seq); err != nil {
		t.Fatal(err)
	}
	r.start()
	r.waitFor(10*time.Second, "the retried item to finish", func() bool { return len(r.outboxItems()) == 0 })
	r.halt()
	if runs := readRuns(t, log); len(runs) != 1 {
		t.Fatalf("an admin retry ran the action again: %d runs", len(runs))
	}
}
