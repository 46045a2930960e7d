package billing

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cwbridge/cwbridge/engine"
)

// row is one (workspace, product) line, from the live plan or from the
// stored picture.
type row struct {
	workspace, company, product string
	identifier                  string // catalog item (plan only)
	itemID, agreementID         int
	wanted                      int
	inCW                        *int // nil: none, unknown or several
	state                       string
	lastSync                    time.Time
	note                        string // the table's last cell
	// In full in the detail.
	change, problem, reason, fix string
	wantedAt                     time.Time // stored: when the wanted quantity last changed
	fromPlan                     bool
}

// stateWaiting is a plan row whose create got no answer: searched for,
// never created twice.
const stateWaiting = "waiting"

// problemWords are the plan's problems in plain words.
var problemWords = map[string]string{
	engine.ProblemNoAgreement:     "no agreement",
	engine.ProblemAgreement:       "agreement cancelled or gone",
	engine.ProblemSharedAgreement: "agreement shared",
	engine.ProblemNotMapped:       "product not mapped",
	engine.ProblemItemMissing:     "item missing",
	engine.ProblemPermission:      "permission missing",
	engine.ProblemSeveralActive:   "several active additions",
	engine.ProblemConnectWise:     "ConnectWise error",
}

func words(problem string) string {
	if w, ok := problemWords[problem]; ok {
		return w
	}
	if problem == "" {
		return "error"
	}
	return strings.ReplaceAll(problem, "_", " ")
}

// setRows lists the plan's rows when a plan is on screen, else the stored
// ones.
func (m *Model) setRows() {
	m.rows = m.rows[:0]
	if m.plan != nil {
		for _, r := range m.plan.Rows {
			m.rows = append(m.rows, planRow(r))
		}
	} else {
		for _, s := range m.status.Rows {
			m.rows = append(m.rows, m.storedRow(s))
		}
	}
	m.table.Cols = storedCols
	if m.plan != nil {
		m.table.Cols = planCols
	}
	m.table.SetRows(len(m.rows), m.cells)
}

func planRow(r engine.BillingRow) row {
	out := row{workspace: r.Workspace, company: r.Company, product: r.Product, identifier: r.Identifier, itemID: r.ItemID,
		agreementID: r.AgreementID, wanted: r.Wanted, inCW: r.InCW, lastSync: r.LastSync, change: r.Change(),
		problem: r.Problem, reason: r.Error, fix: r.Fix, fromPlan: true}
	switch r.Action {
	case engine.BillInStep:
		out.state = engine.StateInStep
	case engine.BillCreate:
		out.state = engine.StateWillChange
		// The number first: on a narrow screen the words give way.
		out.note = fmt.Sprintf("none → %d (new addition)", r.Wanted)
		if r.ItemID == 0 {
			out.note = fmt.Sprintf("none → %d (new item %s and addition)", r.Wanted, r.Identifier)
		}
	case engine.BillUpdate:
		out.state = engine.StateWillChange
		from := "?"
		if r.InCW != nil {
			from = fmt.Sprint(*r.InCW)
		}
		out.note = fmt.Sprintf("%s → %d (addition %d)", from, r.Wanted, r.AdditionID)
	case engine.BillWait:
		out.state, out.note = stateWaiting, "waiting: "+r.Error
	default:
		out.state, out.note = engine.StateBillError, words(r.Problem)+": "+r.Error
	}
	return out
}

func (m *Model) storedRow(s engine.BillingStatusRow) row {
	out := row{workspace: s.Workspace, company: m.companies[s.Workspace], product: s.Product, wanted: s.Wanted,
		state: s.State, lastSync: s.SyncedAt, reason: s.LastError, wantedAt: s.UpdatedAt}
	if !s.SyncedAt.IsZero() {
		q := s.Synced
		out.inCW = &q
	}
	switch {
	case s.State == engine.StateBillError:
		out.note = s.LastError
	case s.State == engine.StateWillChange && out.inCW != nil:
		out.note = fmt.Sprintf("%d → %d at the next sync", *out.inCW, s.Wanted)
	case s.State == engine.StateWillChange:
		out.note = "not synced yet"
	}
	return out
}

// cells are row i's table cells.
func (m *Model) cells(i int) []string {
	r := m.rows[i]
	if r.fromPlan {
		return []string{r.workspace, orDash(r.company), r.product, fmt.Sprint(r.wanted), qty(r.inCW), r.state, r.note}
	}
	return []string{r.workspace, orDash(r.company), r.product, fmt.Sprint(r.wanted), qty(r.inCW), r.state, m.c.Since(r.lastSync), r.note}
}

func qty(q *int) string {
	if q == nil {
		return "–"
	}
	return fmt.Sprint(*q)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// summary counts a plan's rows in words.
func summary(p engine.BillingPlan) string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(p.Creates, "to create")
	add(p.Updates, "to change")
	add(p.Waiting, "waiting")
	add(p.Errors, plural(p.Errors, "error"))
	if len(parts) == 0 {
		return "all in step"
	}
	return strings.Join(parts, ", ")
}

// done counts what a sync did.
func done(p engine.BillingPlan) string {
	var created, changed, failed, waiting, skipped int
	for _, r := range p.Rows {
		switch {
		case r.Done == engine.DoneCreated:
			created++
		case r.Done == engine.DoneUpdated:
			changed++
		case r.Done == engine.DoneSkipped:
			skipped++
		case r.Action == engine.BillWait:
			waiting++
		case r.Action == engine.BillError:
			failed++
		}
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(created, "created")
	add(changed, "changed")
	add(failed, plural(failed, "error"))
	add(waiting, "waiting")
	add(skipped, "not tried")
	if len(parts) == 0 {
		return "nothing needed changing"
	}
	return strings.Join(parts, ", ")
}

// failed is how many of a sync's rows ended in an error.
func failed(p engine.BillingPlan) int {
	n := 0
	for _, r := range p.Rows {
		if r.Action == engine.BillError {
			n++
		}
	}
	return n
}

func plural(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

// problemsLine says, per problem in plain words, which companies have it.
func (m *Model) problemsLine() string {
	type group struct {
		words string
		who   []string
	}
	var groups []*group
	byWords := map[string]*group{}
	for _, r := range m.rows {
		if r.state != engine.StateBillError {
			continue
		}
		w := "error at the last sync (enter shows why)"
		if r.fromPlan {
			w = words(r.problem)
		}
		g := byWords[w]
		if g == nil {
			g = &group{words: w}
			byWords[w] = g
			groups = append(groups, g)
		}
		who := r.workspace
		if r.company != "" && !strings.EqualFold(r.company, r.workspace) {
			who = r.company + " (" + r.workspace + ")"
		}
		if !slices.Contains(g.who, who) {
			g.who = append(g.who, who)
		}
	}
	if len(groups) == 0 {
		return ""
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = g.words + ": " + strings.Join(g.who, ", ")
	}
	return "✗ " + strings.Join(parts, "; ")
}
