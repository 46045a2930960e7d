// Command cwbridge connects a security platform to ConnectWise PSA.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
)

// Exit codes shared by every command.
const (
	exitOK     = 0
	exitFail   = 1 // the command ran and found a problem
	exitConfig = 2 // bad flags or a bad config
)

// command is one subcommand. Only commands that really work are listed.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) int
}

var commands = []command{
	{"demo", "try cwbridge: a ConnectWise simulator, sample incidents and the TUI; needs no config", runDemo},
	{"serve", "run the engine, the intake and the SSH server headless until SIGINT/SIGTERM", runServe},
	{"verify", "check ConnectWise credentials and permissions; exit 0 when all pass", runVerify},
	{"cwsim", "run the built-in ConnectWise simulator and print a ready [connectwise] block", runCWSim},
	{"ingest", "post NDJSON incidents to a running intake", runIngest},
	{"billing", "billing plan|sync: show or apply the usage sync of a running serve", runBilling},
	{"version", "print the version", runVersion},
}

// env carries the process's streams so commands are testable in-process.
type env struct {
	stdout, stderr io.Writer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		return runTUI(ctx, e, nil)
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help", "help":
		usage(e.stdout)
		return exitOK
	case "--version", "-version":
		return runVersion(ctx, e, nil)
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(ctx, e, args[1:])
		}
	}
	if strings.HasPrefix(name, "-") { // "cwbridge --data DIR": the TUI with flags
		return runTUI(ctx, e, args)
	}
	fmt.Fprintf(e.stderr, "cwbridge: unknown command %q (run cwbridge --help)\n", name)
	return exitConfig
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "cwbridge connects a security platform to ConnectWise PSA (Manage).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: cwbridge [--config FILE] [--data DIR]   the TUI on this terminal (with the engine)")
	fmt.Fprintln(w, "       cwbridge <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for _, c := range commands {
		names = append(names, c.name)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, c := range commands {
			if c.name == n {
				fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'cwbridge <command> --help' for a command's flags.")
}

// newFlags builds a flag set whose errors are one line and exit 2; its
// usage is printed only when asked for (-h, --help).
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: cwbridge %s\n", synopsis)
		printFlags(e.stdout, fs)
	}
	return fs
}

// argNames are the flags' value names, as the README writes them.
var argNames = map[string]string{"config": "FILE", "data": "DIR", "listen": "ADDR", "url": "URL", "token": "TOKEN",
	"companies": "N", "seed": "N", "batch": "N", "every": "DURATION", "timeout": "DURATION", "retry-after": "DURATION", "latency": "DURATION"}

// printFlags lists the flags in the --flag form the README uses (Go's
// PrintDefaults writes -flag), and nothing for a command without flags.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprint(w, "\nFlags:\n")
			first = false
		}
		name, usage := flag.UnquoteUsage(f)
		if n, ok := argNames[f.Name]; ok && name != "" {
			name = n
		}
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintln(w, line)
		if def := f.DefValue; def != "" && def != "false" && def != "0" {
			usage += " (default " + def + ")"
		}
		fmt.Fprintln(w, "        "+strings.ReplaceAll(usage, "\n", "\n        "))
	})
}

// parseFlags parses a command that takes flags only: -1 to continue, or an
// exit code (a stray argument is a usage error).
func parseFlags(e *env, fs *flag.FlagSet, args []string) int {
	if code := parseFlagsAndArgs(e, fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "%s: unexpected argument %q\n", cmdPrefix(fs), fs.Arg(0))
		return exitConfig
	}
	return -1
}

// parseFlagsAndArgs is parseFlags for a command that takes arguments too
// (left in fs.Args()).
func parseFlagsAndArgs(e *env, fs *flag.FlagSet, args []string) int {
	usage := fs.Usage
	fs.Usage = func() {} // flag calls it on every error; we print it only for help
	err := fs.Parse(args)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage()
		return exitOK
	case err != nil:
		fmt.Fprintf(e.stderr, "%s: %v\n", cmdPrefix(fs), err)
		return exitConfig
	}
	return -1
}

// cmdPrefix starts a command's error lines: "cwbridge serve", or just
// "cwbridge" for the TUI.
func cmdPrefix(fs *flag.FlagSet) string {
	if fs.Name() == "cwbridge" {
		return "cwbridge"
	}
	return "cwbridge " + fs.Name()
}

// version is set by -ldflags "-X main.version=…"; otherwise the module
// version or VCS revision from the build info.
var version = ""

func versionString() string {
	v := version
	bi, ok := debug.ReadBuildInfo()
	if v == "" && ok {
		v = bi.Main.Version
		if v == "" || v == "(devel)" {
			v = "dev"
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					v += "+" + s.Value[:12]
				}
			}
		}
	}
	goVer := ""
	if ok {
		goVer = " (" + bi.GoVersion + ")"
	}
	return "cwbridge " + strings.TrimSpace(v) + goVer
}

func runVersion(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "version", "version")
	if code := parseFlags(e, fs, args); code >= 0 {
		return code
	}
	fmt.Fprintln(e.stdout, versionString())
	return exitOK
}
