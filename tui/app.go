package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/setup"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// App is the root model.
type App struct {
	c      *common.Common
	cancel context.CancelFunc
	pages  [common.NumPages]common.Page
	active common.PageID

	healthCh   <-chan common.Health // pushed by the engine; nil without one
	health     common.Health
	haveHealth bool
	help       help.Model
	fullHelp   bool
	helpPane   widget.Detail      // the ? screen, scrollable on a short terminal
	confirm    *common.ConfirmMsg // the question on the prompt line, if any
	status     common.StatusMsg   // the status line, until it expires
	statusSeq  int                // which status a timer clears
	version    string
	w, h       int
}

// New builds one session's UI. ctx bounds everything the session starts
// (subscriptions, ConnectWise calls); it is cancelled on quit.
func New(ctx context.Context, o Options) *App {
	ctx, cancel := context.WithCancel(ctx)
	c := newCommon(ctx, o)
	a := &App{c: c, cancel: cancel, help: help.New(), helpPane: widget.NewDetail(), version: strings.TrimPrefix(o.Version, "cwbridge "), w: 80, h: 24}
	a.help.Styles = c.Styles.Help
	if o.Backend != nil {
		a.healthCh = o.Backend.WatchHealth(ctx)
	}
	a.pages = newPages(c, o)
	if !setup.NeedsOnboarding(o.Store) || o.ReadOnly { // a viewer cannot finish setup: open where there is something to see
		a.active = common.PageFeed
	}
	a.layout()
	return a
}

type healthMsg struct{ h common.Health }

// statusExpiredMsg clears status number seq (a newer one stays).
type statusExpiredMsg struct{ seq int }

func (a *App) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor, a.firstHealth()}
	for _, p := range a.pages {
		cmds = append(cmds, p.Init())
	}
	return tea.Batch(cmds...)
}

// firstHealth delivers the report WatchHealth holds from the start, as an
// ordinary command (the first frame shows it); later ones come through
// waitHealth.
func (a *App) firstHealth() tea.Cmd {
	select {
	case h, ok := <-a.healthCh:
		if ok {
			return func() tea.Msg { return healthMsg{h} }
		}
		return nil
	default:
		return a.waitHealth()
	}
}

// waitHealth waits for the engine's next health report (the first comes
// at once); each one re-arms it.
func (a *App) waitHealth() tea.Cmd {
	ch := a.healthCh
	if ch == nil {
		return nil
	}
	return common.Waiting(func() tea.Msg {
		h, ok := <-ch
		if !ok {
			return nil // the session ended
		}
		return healthMsg{h}
	})
}

func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.w, a.h = msg.Width, msg.Height
		a.layout()
		return a, nil
	case tea.BackgroundColorMsg:
		*a.c.Styles = *common.DefaultStyles(msg.IsDark())
		a.help.Styles = a.c.Styles.Help
		return a, nil
	case healthMsg:
		a.health, a.haveHealth = msg.h, true
		cmds := a.broadcast(common.HealthMsg{Health: msg.h})
		cmds = append(cmds, a.waitHealth())
		return a, tea.Batch(cmds...)
	case common.PageMsg:
		return a, a.pages[msg.Page].Update(msg.Msg)
	case common.ConfirmMsg:
		a.confirm = &msg
		a.layout()
		return a, nil
	case common.StatusMsg:
		a.statusSeq++
		a.status = msg
		a.layout()
		seq, d := a.statusSeq, common.StatusTimeout
		if msg.Err {
			d = common.StatusErrTimeout
		}
		return a, a.c.Tick(d, func(time.Time) tea.Msg { return statusExpiredMsg{seq} })
	case statusExpiredMsg:
		if msg.seq == a.statusSeq {
			a.status = common.StatusMsg{}
			a.layout()
		}
		return a, nil
	case tea.KeyPressMsg:
		return a, a.key(msg)
	case tea.PasteMsg:
		// Text for the focused field of the page on screen, not for all.
		return a, a.pages[a.active].Update(msg)
	}
	return a, tea.Batch(a.broadcast(msg)...)
}

func (a *App) broadcast(msg tea.Msg) []tea.Cmd {
	var cmds []tea.Cmd
	for _, p := range a.pages {
		cmds = append(cmds, p.Update(msg))
	}
	return cmds
}

func (a *App) key(k tea.KeyPressMsg) tea.Cmd {
	if esc, rest, ok := splitAlt(k); ok {
		return tea.Batch(a.key(esc), a.key(rest))
	}
	if a.confirm != nil {
		c := a.confirm
		a.confirm = nil
		a.layout()
		if key.Matches(k, keyYes) {
			return c.Yes
		}
		return nil
	}
	page := a.pages[a.active]
	keys := a.c.Keys
	if key.Matches(k, keys.ForceQuit) {
		return a.quitOrConfirm()
	}
	if a.fullHelp && a.helpPane.Scroll(k) {
		return nil
	}
	if a.fullHelp {
		// The help is on screen: ? and esc close it, any other key closes
		// it and does what it does.
		a.fullHelp = false
		a.layout()
		if key.Matches(k, keyCloseHelp) {
			return nil
		}
	}
	if !page.Capturing() {
		switch {
		case key.Matches(k, keys.Quit):
			return a.quitOrConfirm()
		case key.Matches(k, keys.Help):
			a.fullHelp = true
			a.helpPane.Top()
			a.layout()
			return nil
		case key.Matches(k, keys.NextTab):
			a.switchTo((a.active + 1) % common.NumPages)
			return nil
		case key.Matches(k, keys.PrevTab):
			a.switchTo((a.active + common.NumPages - 1) % common.NumPages)
			return nil
		case key.Matches(k, keyGoTo):
			a.switchTo(common.PageID(k.String()[0] - '1'))
			return nil
		}
	}
	return page.Update(k)
}

// splitAlt undoes the terminal's esc+key merge. Esc is a lone ESC byte;
// when the next key follows within the reader's escape timeout (through
// tmux or ssh the two often arrive together) Bubble Tea reads both as one
// alt+key. No binding uses alt, so it is esc, then the key, at once.
func splitAlt(k tea.KeyPressMsg) (esc, rest tea.KeyPressMsg, ok bool) {
	if k.Mod&tea.ModAlt == 0 {
		return k, k, false
	}
	rest = tea.KeyPressMsg{Code: k.Code, ShiftedCode: k.ShiftedCode, BaseCode: k.BaseCode, Mod: k.Mod &^ tea.ModAlt}
	if rest.Mod&^tea.ModShift == 0 && unicode.IsPrint(k.Code) {
		r := k.Code
		if rest.Mod&tea.ModShift != 0 && k.ShiftedCode != 0 {
			r = k.ShiftedCode
		}
		rest.Text = string(r)
	}
	return tea.KeyPressMsg{Code: tea.KeyEscape}, rest, true
}

func (a *App) switchTo(p common.PageID) {
	a.active = p
	a.layout()
}

func (a *App) quitOrConfirm() tea.Cmd {
	for _, p := range a.pages {
		if p.Dirty() {
			a.confirm = &common.ConfirmMsg{Prompt: "Unsaved changes will be lost. Quit anyway?", Yes: a.quit()}
			a.layout()
			return nil
		}
	}
	return a.quit()
}

// quit ends the session: its context first, then the program.
func (a *App) quit() tea.Cmd {
	cancel := a.cancel
	return func() tea.Msg {
		cancel()
		return tea.QuitMsg{}
	}
}

// Dirty reports whether any page has unsaved edits.
func (a *App) Dirty() bool {
	for _, p := range a.pages {
		if p.Dirty() {
			return true
		}
	}
	return false
}

// Active is the page on screen.
func (a *App) Active() common.PageID { return a.active }

// Page returns a page (tests).
func (a *App) Page(id common.PageID) common.Page { return a.pages[id] }

const headerLines = 2

func (a *App) footerLines() int { return lipgloss.Height(a.footer()) }

// layout gives every page the area left between header and footer.
func (a *App) layout() {
	a.help.SetWidth(a.w)
	h := max(1, a.h-headerLines-a.footerLines())
	for _, p := range a.pages {
		p.SetSize(a.w, h)
	}
}

func (a *App) View() tea.View {
	h := max(1, a.h-headerLines-a.footerLines())
	content := ""
	if a.fullHelp {
		content = a.helpView(h)
	} else {
		content = a.pages[a.active].View()
	}
	body := widget.Lines(content, a.w, h)
	v := tea.NewView(a.header() + "\n" + a.tabs() + "\n" + body + "\n" + a.footer())
	v.AltScreen = true
	v.WindowTitle = "cwbridge"
	return v
}

// Content is the screen as text (tests, goldens).
func (a *App) Content() string { return a.View().Content }

func (a *App) header() string {
	st := a.c.Styles
	left := st.Brand.Render("cwbridge")
	if a.version != "" {
		left += st.Muted.Render(" " + a.version)
	}
	hl := a.health
	cw := hl.ConnectWise
	if !a.haveHealth {
		cw = "…"
	}
	var cwStyled string
	switch cw {
	case "ok":
		cwStyled = st.OK.Render("● ok")
	case "unconfigured", "…":
		cwStyled = st.Muted.Render("○ " + cw)
	case "degraded":
		cwStyled = st.Error.Render(fmt.Sprintf("✗ degraded (%.0f%% errors)", hl.ErrorRate*100))
	case "throttled":
		cwStyled = st.Warn.Render("◌ throttled")
		if !hl.ThrottledUntil.IsZero() {
			cwStyled = st.Warn.Render("◌ throttled until " + hl.ThrottledUntil.In(a.c.Now().Location()).Format("15:04:05"))
		}
	default:
		cwStyled = st.Error.Render("✗ " + cw)
	}
	right := "ConnectWise " + cwStyled + st.Muted.Render("  │  ") + fmt.Sprintf("queue %d", hl.Queue)
	if hl.Failed > 0 {
		right += st.Muted.Render("  │  ") + st.Error.Render(fmt.Sprintf("failed %d", hl.Failed))
	}
	if hl.Paused {
		right += st.Muted.Render("  │  ") + st.Warn.Render("paused")
	}
	gap := a.w - lipgloss.Width(left) - lipgloss.Width(right) - 2
	if gap < 1 {
		return widget.Fit(" "+left+" "+right, a.w)
	}
	return " " + left + strings.Repeat(" ", gap) + right + " "
}

func (a *App) tabs() string {
	st := a.c.Styles
	var parts []string
	for i := range common.NumPages {
		label := fmt.Sprintf("%d %s", i+1, i)
		if i == a.active {
			parts = append(parts, st.TabActive.Render(label))
		} else {
			parts = append(parts, st.Tab.Render(label))
		}
	}
	line := strings.Join(parts, "")
	if rest := a.w - lipgloss.Width(line); rest > 0 {
		line += st.Rule.Render(strings.Repeat("─", rest))
	}
	return widget.Trunc(line, a.w)
}

func (a *App) footer() string {
	st := a.c.Styles
	switch {
	case a.confirm != nil:
		return st.Warn.Render(widget.Trunc(" "+a.confirm.Prompt+" y/N", a.w))
	case a.status.Text != "" && a.status.Err:
		return st.Error.Render(widget.Trunc(" "+a.status.Text, a.w))
	case a.status.Text != "":
		return st.OK.Render(widget.Trunc(" "+a.status.Text, a.w))
	}
	page := a.pages[a.active]
	keys := a.c.Keys
	global := []key.Binding{keys.Help, keys.Quit}
	if page.Capturing() {
		global = []key.Binding{keys.ForceQuit}
	}
	if page.Capturing() {
		// Say that the global keys are text here, not commands.
		global = append(global, keyTyped)
	}
	if a.fullHelp {
		bs := []key.Binding{keyCloseHelp}
		if a.helpPane.More() != "" {
			bs = append(bs, widget.DetailKeys.Down, widget.DetailKeys.Up)
		}
		return widget.Trunc(" "+a.help.ShortHelpView(common.Short(bs)), a.w)
	}
	// The page's hints give way from the end, so "? help" and quit always
	// show, also at 80 columns; a viewer's footer says first that nothing
	// here changes anything.
	lead := " "
	if a.c.ReadOnly {
		lead = " " + st.Warn.Render("read-only") + "  "
	}
	pageKeys := page.ShortHelp()
	measure := a.help
	measure.SetWidth(0) // the help's own cut would hide the overflow
	for len(pageKeys) > 0 && lipgloss.Width(lead+measure.ShortHelpView(common.Short(append(slices.Clone(pageKeys), global...)))) > a.w {
		pageKeys = pageKeys[:len(pageKeys)-1]
	}
	return widget.Trunc(lead+a.help.ShortHelpView(common.Short(append(slices.Clone(pageKeys), global...))), a.w)
}

var (
	keyYes       = common.B("y", "yes", "Answer yes to the question; any other key answers no.", "y", "Y")
	keyGoTo      = common.B("1-7", "go to page", "Go to page 1 Setup, 2 Companies, 3 Alerts, 4 Feed, 5 Health, 6 Activity or 7 Billing.", "1", "2", "3", "4", "5", "6", "7")
	keyTyped     = common.B("q?1-7", "typed", "While a field has the cursor, q, ?, 1-7 and tab are typed into it.", "")
	keyCloseHelp = common.B("? / esc", "close help", "Close this list.", "?", "esc")
)

// helpView is the ? screen: every key of the page on screen, then the
// global ones, each with a sentence. It takes the page's place.
func (a *App) helpView(h int) string {
	st := a.c.Styles
	page, keys := a.pages[a.active], a.c.Keys
	var lines []string
	section := func(title string, bs []key.Binding) {
		seen := map[string]bool{}
		lines = append(lines, st.Subtitle.Render(title))
		for _, b := range bs {
			k := b.Help().Key
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			// The sentence wraps under itself: it is the point of ?.
			text := strings.Split(ansi.Wrap(common.Sentence(b), max(10, a.w-15), " "), "\n")
			lines = append(lines, "  "+st.Label.Render(widget.Fit(k, 12))+" "+text[0])
			for _, t := range text[1:] {
				lines = append(lines, strings.Repeat(" ", 15)+t)
			}
		}
		lines = append(lines, "")
	}
	var pageKeys []key.Binding
	for _, g := range page.FullHelp() {
		pageKeys = append(pageKeys, g...)
	}
	section("Keys on "+a.active.String(), pageKeys)
	global := []key.Binding{keys.NextTab, keys.PrevTab, keyGoTo, keys.Help, keys.Quit, keys.ForceQuit}
	if page.Capturing() {
		global = append(global, keyTyped)
	}
	section("Everywhere", global)
	a.helpPane.SetSize(a.w, h)
	a.helpPane.SetContent(strings.TrimRight(strings.Join(lines, "\n"), "\n"))
	return a.helpPane.View()
}
