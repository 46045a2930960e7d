package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	tea "charm.land/bubbletea/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/tui"
)

// runTUI is `cwbridge` on its own: the TUI on this terminal, with the
// engine (and the intake, when configured) in the same process.
func runTUI(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "cwbridge", "[--config FILE] [--data DIR]")
	state := addStateFlags(fs)
	if code := parseFlags(e, fs, args); code >= 0 {
		return code
	}
	cfg, st, err := state.open()
	if err != nil {
		fmt.Fprintf(e.stderr, "cwbridge: %v\n", err)
		return exitCode(err)
	}
	defer st.Close()
	// The screen is the terminal: logs go to a file beside the data.
	logf, log := fileLogger(filepath.Join(*state.data, "cwbridge.log"))
	if logf != nil {
		defer logf.Close()
	}
	for _, w := range cfg.Warnings {
		log.Warn("config: " + w)
	}
	eng, err := engine.New(engine.Options{Store: st, Config: cfg, Logger: log})
	if err != nil {
		fmt.Fprintf(e.stderr, "cwbridge: %v\n", err)
		return exitFail
	}
	bg := newBackground(ctx)
	bg.goRun(eng.Run)
	if err := startIntake(bg, cfg, st, eng, prometheus.NewRegistry(), log); err != nil {
		bg.stop(stopGrace)
		fmt.Fprintf(e.stderr, "cwbridge: intake: %v\n", err)
		return exitFail
	}
	app := tui.New(bg.ctx, tui.Options{Store: st, Backend: eng, Config: cfg,
		Actor: "tui:" + currentUser(), Version: versionString()})
	_, err = tea.NewProgram(app, tea.WithContext(bg.ctx)).Run()
	bg.stop(stopGrace)
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(e.stderr, "cwbridge: %v\n", err)
		return exitFail
	}
	return exitOK
}

// fileLogger logs to path (0600), or nowhere if it cannot be opened.
func fileLogger(path string) (io.Closer, *slog.Logger) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, slog.New(slog.DiscardHandler)
	}
	return f, slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func currentUser() string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if u := os.Getenv(k); u != "" {
			return u
		}
	}
	return "local"
}
