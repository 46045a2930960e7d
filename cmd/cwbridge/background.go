package main

import (
	"context"
	"errors"
	"time"
)

// background runs the long-lived parts of a command (the engine, the
// intake, the SSH server, the demo's generator) and stops them together.
type background struct {
	ctx    context.Context // cancelled by stop
	cancel context.CancelFunc
	errs   chan error
	n      int
}

func newBackground(parent context.Context) *background {
	ctx, cancel := context.WithCancel(parent)
	return &background{ctx: ctx, cancel: cancel, errs: make(chan error, 8)}
}

// goRun starts fn; it must return when its context ends.
func (b *background) goRun(fn func(context.Context) error) {
	b.n++
	go func() { b.errs <- fn(b.ctx) }()
}

// wait blocks until ctx ends (nil) or a part stops on its own (its error,
// or a note that it stopped).
func (b *background) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-b.errs:
		b.n--
		if err == nil {
			err = errors.New("a part stopped by itself")
		}
		return err
	}
}

// stop cancels every part and waits for them, at most grace. It reports
// the first real error and whether everything stopped in time.
func (b *background) stop(grace time.Duration) (inTime bool, err error) {
	b.cancel()
	deadline := time.After(grace)
	for b.n > 0 {
		select {
		case e := <-b.errs:
			b.n--
			if e != nil && err == nil && !errors.Is(e, context.Canceled) {
				err = e
			}
		case <-deadline:
			return false, err
		}
	}
	return true, err
}
