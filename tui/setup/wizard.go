package setup

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/cwbridge/cwbridge/cwclient"
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/widget"
)

// step is one screen of the wizard. Its name is what storage keeps, so an
// interrupted setup resumes where it stopped.
type step int

const (
	stepCredentials step = iota
	stepVerify
	stepAgreement
	stepProducts
	stepSummary
	numSteps
)

var stepNames = [...]string{"credentials", "verify", "agreement", "products", "summary"}
var stepTitles = [...]string{"Credentials", "Verify", "Agreement type", "Products", "Summary"}

func stepByName(s string) step {
	for i, n := range stepNames {
		if n == s {
			return step(i)
		}
	}
	return stepCredentials
}

// Credential fields, in screen order.
const (
	fSite = iota
	fCompany
	fPublic
	fPrivate
	fClient
	numFields
)

// wizard is the onboarding flow. It saves its progress on every step
// change as this technician's draft (storage Draft, keyed by the session's
// actor: no other session sees it), and the real settings only at the
// end, in one transaction: quitting midway leaves nothing half-saved.
type wizard struct {
	c *common.Common

	step     step
	fields   [numFields]widget.Field
	focus    int
	apiVer   string
	fallback string
	// storedKey is the private key already saved (or in saved progress).
	// It is write-only: the field starts empty and shows it as set; an
	// empty field keeps it, typing replaces it, nothing ever reveals it.
	storedKey storage.Secret

	// verify
	run        int // bumps per verify run; stale progress is dropped
	cancel     context.CancelFunc
	verifying  bool
	checks     []cwclient.Check
	verifiedAt time.Time
	verifiedOf string // fingerprint of the draft that passed
	spin       spinner.Model

	// agreement type
	agPicker  widget.Picker
	agLoaded  bool
	agLoading bool
	agErr     string
	agType    storage.AgreementType

	// products
	products   []product
	pcursor    int
	editing    bool // editing names of products[pcursor]
	editField  int
	pfields    [2]widget.Field
	catPicker  *widget.Picker
	catalog    []widget.Item
	catErr     string
	catLoading bool
	// kindPicker picks a new item's subcategory, then its product type
	// (kindFor says which), from ConnectWise's lists in choices.
	kindPicker *widget.Picker
	kindFor    string
	choices    *engine.CatalogChoices
	choicesErr string

	// summary
	saving  bool
	saveErr string
	// outcomes is what saving did to each product's ConnectWise catalog
	// item (adopted, created, failed and why); shown before the wizard
	// closes.
	outcomes []engine.CatalogOutcome

	// rerun: the setup is finished and this run changes it. Progress is
	// not saved on the way (the finished record stays "done"); leaving
	// midway keeps the settings as they were.
	rerun bool
	// rev is the setup settings' revision the wizard started from; the
	// summary's save is refused when someone saved setup since.
	rev uint64

	values    map[string]string
	persisted string // fingerprint of what storage holds, for Dirty
	status    string
	w, h      int
}

func newWizard(c *common.Common) *wizard {
	wz := &wizard{c: c, values: map[string]string{}, spin: spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(c.Styles.Cursor))}
	wz.fields[fSite] = widget.NewField("Site", "na.myconnectwise.net", validSite)
	wz.fields[fSite].Hint = "ConnectWise host or https:// URL; http:// only on loopback"
	wz.fields[fCompany] = widget.NewField("Company ID", "mycompany", validCompanyID)
	wz.fields[fCompany].Hint = "the company you type on the ConnectWise login page"
	wz.fields[fPublic] = widget.NewField("Public key", "from System > Members > API Members", validPublicKey)
	wz.fields[fPrivate] = widget.NewSecretField("Private key", "shown once when the key is made", func(s string) error {
		if s == "" && wz.hasStoredKey() {
			return nil
		}
		return validPrivateKey(s)
	})
	wz.fields[fPrivate].Hint = "ctrl+r shows or hides what you type"
	wz.fields[fClient] = widget.NewField("Client ID", "GUID from developer.connectwise.com", validClientID)
	for i := range wz.pfields {
		wz.pfields[i] = widget.NewField([]string{"Identifier", "Description"}[i], "", []func(string) error{validIdentifier, validDescription}[i])
	}
	return wz
}

// load fills the wizard from stored progress (or the current settings when
// re-running it).
func (wz *wizard) load(o storage.Onboarding, stored []storage.ProductMapping, ag storage.AgreementType) {
	d := o.Draft
	wz.fields[fSite].SetValue(d.Site)
	wz.fields[fCompany].SetValue(d.CompanyID)
	wz.fields[fPublic].SetValue(d.PublicKey)
	wz.storedKey = d.PrivateKey
	if wz.hasStoredKey() {
		wz.fields[fPrivate].SetPlaceholder(storage.Mask + " (stored)")
		wz.fields[fPrivate].Hint = "leave empty to keep the stored key, or type a new one; ctrl+r shows or hides what you type"
	}
	wz.fields[fClient].SetValue(d.ClientID)
	wz.apiVer, wz.fallback = d.APIVersion, d.FallbackCompany
	wz.values = map[string]string{}
	for k, v := range o.Values {
		wz.values[k] = v
	}
	wz.agType = ag
	if id, err := strconv.Atoi(wz.values["agreement_type_id"]); err == nil && id > 0 {
		wz.agType = storage.AgreementType{ID: id, Name: wz.values["agreement_type_name"]}
	}
	wz.products = initialProducts(wz.c.Config, stored, wz.values)
	wz.step = stepByName(o.Step)
	if !o.VerifiedAt.IsZero() {
		wz.verifiedAt, wz.verifiedOf = o.VerifiedAt, wz.fingerprint()
	}
	if wz.step > stepVerify && wz.verifiedAt.IsZero() {
		wz.step = stepVerify // never skip verification on resume
	}
	wz.persisted = wz.snapshot()
}

func (wz *wizard) hasStoredKey() bool { return wz.storedKey.Reveal() != "" }

// draft is the connection as typed; an empty private key field keeps the
// stored key.
func (wz *wizard) draft() storage.Connection {
	api := wz.apiVer
	if api == "" {
		api = cwclient.DefaultAPIVersion
	}
	pk := storage.NewSecret(wz.fields[fPrivate].Value())
	if wz.fields[fPrivate].Value() == "" {
		pk = wz.storedKey
	}
	return storage.Connection{
		Site: wz.fields[fSite].Value(), CompanyID: wz.fields[fCompany].Value(),
		PublicKey: wz.fields[fPublic].Value(), PrivateKey: pk,
		ClientID: wz.fields[fClient].Value(), APIVersion: api, FallbackCompany: wz.fallback,
	}
}

// fingerprint identifies the credentials that were verified; it is only
// compared in memory and never shown.
func (wz *wizard) fingerprint() string {
	d := wz.draft()
	return d.Site + "\x00" + d.CompanyID + "\x00" + d.PublicKey + "\x00" + d.PrivateKey.Reveal() + "\x00" + d.ClientID
}

func (wz *wizard) snapshot() string {
	s := stepNames[wz.step] + "\x00" + wz.fingerprint()
	for _, p := range wz.products {
		vals := map[string]string{}
		p.save(vals)
		for _, k := range []string{"mode", "identifier", "description", "existing_id"} {
			s += "\x00" + vals[p.prefix()+k]
		}
	}
	return s + "\x00" + strconv.Itoa(wz.agType.ID)
}

func (wz *wizard) dirty() bool { return wz.snapshot() != wz.persisted }

func (wz *wizard) verified() bool {
	return !wz.verifiedAt.IsZero() && wz.verifiedOf == wz.fingerprint()
}

// onboarding is the progress record for the current state.
func (wz *wizard) onboarding() storage.Onboarding {
	for i := range wz.products {
		wz.products[i].save(wz.values)
	}
	if wz.agType.ID != 0 {
		wz.values["agreement_type_id"] = strconv.Itoa(wz.agType.ID)
		wz.values["agreement_type_name"] = wz.agType.Name
	}
	o := storage.Onboarding{Step: stepNames[wz.step], Draft: wz.draft(), Values: wz.values}
	if wz.verified() {
		o.VerifiedAt = wz.verifiedAt
	}
	return o
}

type persistedMsg struct {
	snap string
	err  error
}

// persist saves progress in a command; the snapshot marks it clean.
func (wz *wizard) persist() tea.Cmd {
	if wz.rerun {
		return nil
	}
	o := wz.onboarding()
	snap := wz.snapshot()
	st, actor := wz.c.Store, wz.c.Actor
	return common.Route(common.PageSetup, func() tea.Msg {
		return persistedMsg{snap: snap, err: st.SetDraft(actor, o)}
	})
}

// client builds a ConnectWise client from the draft (the settings are not
// saved until the end).
func (wz *wizard) client() (*cwclient.Client, error) { return wz.c.NewClient(wz.draft()) }

func (wz *wizard) setSize(w, h int) {
	wz.w, wz.h = w, h
	for i := range wz.fields {
		wz.fields[i].SetWidth(min(60, w-20))
	}
	for i := range wz.pfields {
		wz.pfields[i].SetWidth(min(50, w-20))
	}
	wz.agPicker.SetSize(w-2, h-8)
	if wz.kindPicker != nil {
		wz.kindPicker.SetSize(w-2, h-6)
	}
	if wz.catPicker != nil {
		wz.catPicker.SetSize(w-2, h-6)
	}
}

// capturing reports whether printable keys are text input.
func (wz *wizard) capturing() bool {
	switch wz.step {
	case stepCredentials:
		return true
	case stepAgreement:
		return wz.agLoaded
	case stepProducts:
		return wz.editing || wz.catPicker != nil || wz.kindPicker != nil
	}
	return false
}

// goTo enters a step: saves progress and starts what the step needs.
func (wz *wizard) goTo(s step) tea.Cmd {
	if wz.cancel != nil && s != stepVerify {
		wz.cancel()
		wz.cancel, wz.verifying = nil, false
	}
	wz.step = s
	wz.status = ""
	cmds := []tea.Cmd{wz.persist()}
	switch s {
	case stepCredentials:
		cmds = append(cmds, wz.focusField(wz.focus))
	case stepVerify:
		if !wz.verified() {
			cmds = append(cmds, wz.startVerify())
		}
	case stepAgreement:
		if !wz.agLoaded {
			cmds = append(cmds, wz.loadAgreementTypes())
		}
	}
	return tea.Batch(cmds...)
}

func (wz *wizard) focusField(i int) tea.Cmd {
	for j := range wz.fields {
		wz.fields[j].Blur()
	}
	wz.focus = i
	return wz.fields[i].Focus()
}

// update hands async results to the step that asked for them and keys to
// the current step.
func (wz *wizard) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case persistedMsg:
		if msg.err != nil {
			wz.status = "could not save progress: " + msg.err.Error()
		} else {
			wz.persisted = msg.snap
		}
		return nil
	case spinner.TickMsg:
		return wz.onSpinner(msg)
	case verifyProgressMsg:
		return wz.onVerifyProgress(msg)
	case verifyDoneMsg:
		return wz.onVerifyDone(msg)
	case agTypesMsg:
		return wz.onAgTypes(msg)
	case catalogMsg:
		return wz.onCatalog(msg)
	case choicesMsg:
		return wz.onChoices(msg)
	case savedMsg:
		return wz.onSaved(msg)
	case tea.KeyPressMsg:
		return wz.key(msg)
	case tea.PasteMsg:
		return wz.paste(msg)
	}
	return nil
}

// paste puts pasted text into whatever has focus (a key is pasted far more
// often than typed).
func (wz *wizard) paste(msg tea.PasteMsg) tea.Cmd {
	switch {
	case wz.step == stepCredentials:
		return wz.fields[wz.focus].Update(msg)
	case wz.step == stepAgreement && wz.agLoaded:
		return wz.agPicker.Update(msg)
	case wz.step == stepProducts && wz.catPicker != nil:
		return wz.catPicker.Update(msg)
	case wz.step == stepProducts && wz.kindPicker != nil:
		return wz.kindPicker.Update(msg)
	case wz.step == stepProducts && wz.editing:
		return wz.pfields[wz.editField].Update(msg)
	}
	return nil
}

func (wz *wizard) key(k tea.KeyPressMsg) tea.Cmd {
	switch wz.step {
	case stepCredentials:
		return wz.keyCredentials(k)
	case stepVerify:
		return wz.keyVerify(k)
	case stepAgreement:
		return wz.keyAgreement(k)
	case stepProducts:
		return wz.keyProducts(k)
	case stepSummary:
		return wz.keySummary(k)
	}
	return nil
}

const labelWidth = 12

func (wz *wizard) view() string {
	var b strings.Builder
	b.WriteString(wz.stepIndicator() + "\n\n")
	switch wz.step {
	case stepCredentials:
		b.WriteString(wz.credentialsView())
	case stepVerify:
		b.WriteString(wz.verifyView())
	case stepAgreement:
		b.WriteString(wz.agreementView())
	case stepProducts:
		b.WriteString(wz.productsView())
	case stepSummary:
		b.WriteString(wz.summaryView())
	}
	if wz.status != "" {
		b.WriteString("\n\n" + wz.c.Styles.Warn.Render(wz.status))
	}
	return b.String()
}

func (wz *wizard) stepIndicator() string {
	st := wz.c.Styles
	parts := make([]string, numSteps)
	for i := range numSteps {
		label := fmt.Sprintf("%d %s", i+1, stepTitles[i])
		switch {
		case i == wz.step:
			parts[i] = st.TabActive.Render(label)
		case i < wz.step:
			parts[i] = st.OK.Render("✓ " + stepTitles[i])
		default:
			parts[i] = st.Muted.Render(label)
		}
	}
	return strings.Join(parts, st.Muted.Render(" › "))
}

func wrap(s string, w int) string {
	if w <= 10 {
		return s
	}
	return lipgloss.NewStyle().Width(w).Render(s)
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

// errText is an error for the screen: cwclient errors never hold keys.
func errText(err error) string {
	var e *cwclient.Error
	if errors.As(err, &e) && e.Message != "" && e.Kind == cwclient.KindConfig {
		return e.Message
	}
	return fmt.Sprint(err)
}
