package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/intake"
)

// billingClientTimeout covers a sync of thousands of agreements at the
// ConnectWise rate ceiling (the server bounds it at 30 minutes).
const billingClientTimeout = 32 * time.Minute

// runBilling is "billing plan" and "billing sync": like ingest, they talk
// to a running serve, since only one process can hold the data dir. Exit
// 0: in step; 1: changes pending (plan) or not all applied (sync); 2: an
// error (the serve cannot be asked, or a row needs a person: no agreement,
// several active additions, a permission missing, …).
func runBilling(ctx context.Context, e *env, args []string) int {
	const synopsis = "billing plan|sync [--url URL] [--token TOKEN] [--config FILE] [--all] [--json]"
	if len(args) == 0 || (args[0] != "plan" && args[0] != "sync") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(e.stdout, "Usage: cwbridge "+synopsis)
			fmt.Fprintln(e.stdout, "  plan  print what a usage sync would change (exit 0 in step, 1 changes pending, 2 error)")
			fmt.Fprintln(e.stdout, "  sync  apply it now (exit 0 in step afterwards, 1 something left to retry, 2 error)")
			return exitOK
		}
		fmt.Fprintln(e.stderr, "cwbridge billing: say plan or sync (cwbridge billing --help)")
		return exitConfig
	}
	sub := args[0]
	fs := newFlags(e, "billing "+sub, synopsis)
	urlFlag := fs.String("url", "", "intake URL of the running serve (default: http://<[intake] listen> from the config, else "+defaultIntakeURL+")")
	tokFlag := fs.String("token", "", "intake bearer token (default: $"+config.EnvIntakeToken+", else [intake] token from the config)")
	cfgPath := fs.String("config", config.DefaultPath, "config file to take [intake] listen and token from")
	all := fs.Bool("all", false, "list the rows in step too")
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	if code := parseFlags(e, fs, args[1:]); code >= 0 {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "cwbridge billing %s: "+format+"\n", append([]any{sub}, a...)...)
		return exitConfig
	}
	token, rawURL, _, err := intakeTarget(fs, *tokFlag, *urlFlag, *cfgPath)
	if err != nil {
		return fail("%v", err)
	}
	method, path := http.MethodGet, "/v1/billing"
	if sub == "sync" {
		method, path = http.MethodPost, "/v1/billing/sync"
	}
	endpoint, err := intakeURL(rawURL, path)
	if err != nil {
		return fail("--url: %v", err)
	}
	ans, err := callBilling(ctx, method, endpoint, token)
	if err != nil {
		return fail("%v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(ans)
	} else {
		printBilling(e.stdout, sub, ans, *all)
	}
	if ans.Error != "" {
		fmt.Fprintf(e.stderr, "cwbridge billing %s: %s\n", sub, ans.Error)
		return exitConfig
	}
	return billingExit(sub, ans.BillingPlan)
}

// billingExit: 2 when a row is in error (it needs a person), 1 when changes
// are pending (plan) or some were not made (sync), else 0.
func billingExit(sub string, p engine.BillingPlan) int {
	pending := false
	for _, r := range p.Rows {
		switch {
		case r.Action == engine.BillError:
			return exitConfig
		case sub == "plan" && r.Action != engine.BillInStep:
			pending = true
		case sub == "sync" && r.Action != engine.BillInStep && r.Done != engine.DoneCreated && r.Done != engine.DoneUpdated:
			pending = true
		}
	}
	if pending {
		return exitFail
	}
	return exitOK
}

func callBilling(ctx context.Context, method, endpoint, token string) (intake.BillingAnswer, error) {
	var ans intake.BillingAnswer
	req, err := http.NewRequestWithContext(ctx, method, endpoint, nil)
	if err != nil {
		return ans, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Timeout: billingClientTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return ans, fmt.Errorf("cannot reach the running serve at %s: %v", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return ans, fmt.Errorf("reading the answer: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return ans, fmt.Errorf("%s (%s)", e.Error, resp.Status)
		}
		return ans, fmt.Errorf("%s answered %s", endpoint, resp.Status)
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return ans, fmt.Errorf("the answer is not a billing plan: %v", err)
	}
	return ans, nil
}

// printBilling prints the plan as a diff: + create, ~ change, ! error,
// … waiting, = in step (with all).
func printBilling(w io.Writer, sub string, a intake.BillingAnswer, all bool) {
	inStep := 0
	for _, r := range a.Rows {
		mark := map[string]string{engine.BillCreate: "+", engine.BillUpdate: "~", engine.BillError: "!", engine.BillWait: "…"}[r.Action]
		if mark == "" {
			inStep++
			if !all {
				continue
			}
			mark = "="
		}
		line := fmt.Sprintf("%s %s/%s  %s", mark, r.Workspace, r.Product, r.Change())
		if r.Done != "" {
			line += "  [" + r.Done + "]"
		}
		fmt.Fprintln(w, line)
	}
	verb := "would"
	if sub == "sync" {
		verb = "planned to"
	}
	last := "never"
	if !a.LastSync.IsZero() {
		last = a.LastSync.Local().Format(time.DateTime)
	}
	parts := []string{fmt.Sprintf("%d in step", inStep)}
	if a.Creates+a.Updates > 0 {
		parts = append(parts, fmt.Sprintf("%s create %d and change %d", verb, a.Creates, a.Updates))
	}
	if a.Waiting > 0 {
		parts = append(parts, fmt.Sprintf("%d waiting for a lost create", a.Waiting))
	}
	if a.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d errors", a.Errors))
	}
	fmt.Fprintf(w, "billing %s: %s; %d ConnectWise calls; last sync %s\n", sub, strings.Join(parts, ", "), a.Calls, last)
}
