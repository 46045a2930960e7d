package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/cwclient"
)

// loadConfig reads --config, or ./cwbridge.toml when present, or
// defaults plus the environment.
func loadConfig(path string, explicit bool) (*config.Config, error) {
	if !explicit {
		if _, err := os.Stat(path); err != nil {
			return config.Load("")
		}
	}
	return config.Load(path)
}

func runVerify(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "verify", "verify [--config FILE] [--timeout D]")
	cfgPath := fs.String("config", config.DefaultPath, "config file with a [connectwise] section")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	if code := parseFlags(e, fs, args); code >= 0 {
		return code
	}
	cfg, err := loadConfig(*cfgPath, flagSet(fs, "config"))
	if err != nil {
		fmt.Fprintf(e.stderr, "cwbridge verify: %v\n", err)
		return exitConfig
	}
	if cfg.File == "" && cfg.ConnectWise.Site == "" {
		// No file and nothing from the environment: say that, not which
		// of the empty settings is checked first.
		fmt.Fprintf(e.stderr, "cwbridge verify: no %s here (or pass --config FILE)\n", config.DefaultPath)
		return exitConfig
	}
	cc, err := newCWClient(cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "cwbridge verify: %s: [connectwise] %v\n", cfgName(cfg), err)
		return exitConfig
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	checks := cc.Verify(ctx, nil)
	printChecks(e.stdout, checks)
	if cwclient.AllPassed(checks) {
		return exitOK
	}
	return exitFail
}

func cfgName(cfg *config.Config) string {
	if cfg.File == "" {
		return "config"
	}
	return cfg.File
}

func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

// newCWClient builds a client from the [connectwise] section.
func newCWClient(cfg *config.Config) (*cwclient.Client, error) {
	cw := cfg.ConnectWise
	return cwclient.New(cwclient.Config{
		Site:                 cw.Site,
		CompanyID:            cw.CompanyID,
		PublicKey:            cw.PublicKey,
		PrivateKey:           cw.PrivateKey.Reveal(),
		ClientID:             cw.ClientID,
		APIVersion:           cw.APIVersion,
		MaxRequestsPerMinute: cfg.Engine.MaxRequestsPerMinute,
		UserAgent:            versionString(),
	})
}

// printChecks renders the checklist as a table, with the fix under each
// failed line.
func printChecks(w io.Writer, checks []cwclient.Check) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tCHECK\tRESULT\tDETAIL")
	for _, c := range checks {
		mark := map[cwclient.CheckStatus]string{cwclient.CheckPass: "✓", cwclient.CheckFail: "✗", cwclient.CheckSkipped: "-", cwclient.CheckPending: "?"}[c.Status]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", mark, c.Name, strings.ToUpper(c.Status.String()), oneLine(c.Detail))
		if c.Status == cwclient.CheckFail && c.Fix != "" {
			// The fix is the line's last cell, which tabwriter leaves out
			// of the column widths, and it is wrapped: a long fix neither
			// widens the table nor runs off an 80-column terminal.
			for i, l := range wrapWords(oneLine(c.Fix), fixWidth) {
				lead := "  fix: "
				if i > 0 {
					lead = "       "
				}
				fmt.Fprintf(tw, "\t%s%s\n", lead, l)
			}
		}
	}
	tw.Flush()
	pass, fail := 0, 0
	for _, c := range checks {
		if c.Status == cwclient.CheckPass {
			pass++
		} else {
			fail++
		}
	}
	if fail == 0 {
		fmt.Fprintf(w, "\nAll %d checks passed.\n", pass)
	} else {
		fmt.Fprintf(w, "\n%d of %d checks passed; fix the lines marked ✗ and run verify again.\n", pass, len(checks))
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// fixWidth keeps a fix line (after the mark column and "  fix: ") within
// 80 columns.
const fixWidth = 68

// wrapWords breaks s into lines of at most w characters at spaces (a
// longer word gets a line of its own).
func wrapWords(s string, w int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) <= w:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
