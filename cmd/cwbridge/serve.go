package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cwbridge/cwbridge/config"
	"github.com/cwbridge/cwbridge/engine"
	"github.com/cwbridge/cwbridge/intake"
	"github.com/cwbridge/cwbridge/storage"
	"github.com/cwbridge/cwbridge/tui"
)

// defaultData is where the bbolt file lives unless --data says otherwise.
const defaultData = "data"

// stopGrace bounds a clean stop: the contract promises 10 s.
const stopGrace = 9 * time.Second

// stateFlags are --config and --data, shared by the commands that open
// the store.
type stateFlags struct {
	fs           *flag.FlagSet
	config, data *string
}

func addStateFlags(fs *flag.FlagSet) stateFlags {
	return stateFlags{fs: fs,
		config: fs.String("config", config.DefaultPath, "config file"),
		data:   fs.String("data", defaultData, "data directory (the bbolt file lives here)"),
	}
}

// open loads the config, opens the store and writes the config's keys into
// it (config wins where it speaks).
func (sf stateFlags) open() (*config.Config, *storage.Store, error) {
	cfg, err := loadConfig(*sf.config, flagSet(sf.fs, "config"))
	if err != nil {
		return nil, nil, &exitError{code: exitConfig, err: err}
	}
	st, err := storage.Open(*sf.data, storage.Options{})
	if err != nil {
		return nil, nil, &exitError{code: exitFail, err: err}
	}
	if err := config.Apply(st, cfg); err != nil {
		st.Close()
		return nil, nil, &exitError{code: exitFail, err: fmt.Errorf("writing the config into %s: %w", st.Path(), err)}
	}
	return cfg, st, nil
}

// exitError carries the exit code a failure should end the command with.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFail
}

func runServe(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "serve", "serve [--config FILE] [--data DIR]")
	state := addStateFlags(fs)
	if code := parseFlags(e, fs, args); code >= 0 {
		return code
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg, st, err := state.open()
	if err != nil {
		fmt.Fprintf(e.stderr, "cwbridge serve: %v\n", err)
		return exitCode(err)
	}
	defer st.Close()
	for _, w := range cfg.Warnings {
		log.Warn("config: " + w)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	eng, err := engine.New(engine.Options{Store: st, Config: cfg, Logger: log, Registry: reg})
	if err != nil {
		fmt.Fprintf(e.stderr, "cwbridge serve: %v\n", err)
		return exitFail
	}
	if h := eng.Health(); h.Paused {
		log.Warn("forwarding is paused until ConnectWise is set up", "reason", h.PauseReason)
	}

	bg := newBackground(ctx)
	bg.goRun(eng.Run)
	if err := startIntake(bg, cfg, st, eng, reg, log); err != nil {
		fmt.Fprintf(e.stderr, "cwbridge serve: intake: %v\n", err)
		bg.stop(stopGrace)
		return exitFail
	}
	if cfg.SSH.Enabled() {
		if err := startSSH(bg, cfg, st, eng, log); err != nil {
			fmt.Fprintf(e.stderr, "cwbridge serve: ssh: %v\n", err)
			bg.stop(stopGrace)
			return exitFail
		}
	}
	log.Info("cwbridge serving", "data", st.Path(), "version", versionString())

	failed := bg.wait(ctx)
	if failed != nil {
		log.Error("stopped unexpectedly", "err", failed)
	} else {
		log.Info("stopping")
	}
	inTime, err := bg.stop(stopGrace)
	if !inTime {
		log.Error("parts did not stop in time; closing the store anyway")
	}
	if failed != nil || err != nil {
		return exitFail
	}
	log.Info("stopped cleanly")
	return exitOK
}

// startIntake runs the intake when [intake] is set. The token comes from
// the config (or env), else from storage, where the wizard may have put it.
func startIntake(bg *background, cfg *config.Config, st *storage.Store, eng *engine.Engine, reg *prometheus.Registry, log *slog.Logger) error {
	if !cfg.Intake.Enabled() {
		return nil
	}
	tok, err := st.IntakeToken()
	if err != nil || tok.IsZero() {
		return fmt.Errorf("no intake token: set [intake] token or %s", config.EnvIntakeToken)
	}
	var tlsConf *tls.Config
	if cfg.Intake.TLS() {
		cert, err := tls.LoadX509KeyPair(cfg.Intake.CertFile, cfg.Intake.KeyFile)
		if err != nil {
			return fmt.Errorf("[intake] cert_file %s / key_file %s: %v", cfg.Intake.CertFile, cfg.Intake.KeyFile, err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	srv, err := intake.New(intake.Options{
		Store: st, Token: tok, MaxBodyBytes: cfg.Intake.MaxBodyBytes, TLS: tlsConf, Billing: eng,
		Health: func() intake.Health {
			h := eng.Health()
			return intake.Health{ConnectWise: h.ConnectWise, Failed: h.Failed, ErrorRate: h.ErrorRate, ThrottledUntil: h.ThrottledUntil}
		},
		Registry: reg, Logger: log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Intake.Listen)
	if err != nil {
		return err
	}
	log.Info("intake listening", "addr", ln.Addr().String(), "tls", tlsConf != nil)
	bg.goRun(func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	return nil
}

// startSSH runs the SSH server: one TUI per session over the shared store
// and engine.
func startSSH(bg *background, cfg *config.Config, st *storage.Store, eng *engine.Engine, log *slog.Logger) error {
	srv, err := newSSHServer(cfg.SSH, log, tuiSessions(cfg, st, eng))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.SSH.Listen)
	if err != nil {
		return err
	}
	log.Info("ssh listening", "addr", ln.Addr().String())
	bg.goRun(func(ctx context.Context) error { return serveSSH(ctx, srv, ln) })
	return nil
}

// tuiSessions gives every SSH session its own TUI over the process's one
// store and engine, acting as the session's technician.
func tuiSessions(cfg *config.Config, st *storage.Store, eng tui.Backend) sshSessionModel {
	return func(s ssh.Session) (tea.Model, []tea.ProgramOption) {
		tech := sessionTechnician(s)
		return tui.New(s.Context(), tui.Options{Store: st, Backend: eng, Config: cfg,
			Actor: tech.Actor(), ReadOnly: tech.Viewer, Version: versionString()}), nil
	}
}
