package engine

import "github.com/prometheus/client_golang/prometheus"

// metrics are the engine's Prometheus series; they are registered only
// when Options.Registry is set.
type metrics struct {
	created, notes, closed, reopened, dropped, failures, retries, actions prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, e *Engine) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "cwbridge", Subsystem: "engine", Name: name, Help: help})
	}
	m := &metrics{
		created:  c("tickets_created_total", "ConnectWise tickets created."),
		notes:    c("notes_total", "Notes posted for folded repeats."),
		closed:   c("tickets_closed_total", "Tickets closed on a resolve."),
		reopened: c("tickets_reopened_total", "Closed tickets reopened by a new trigger."),
		dropped:  c("incidents_dropped_total", "Incidents dropped with a reason (no route, route disabled, no company)."),
		failures: c("failures_total", "Outbox items given up on."),
		retries:  c("retries_total", "Outbox items rescheduled after a failed attempt."),
		actions:  c("actions_run_total", "Resolution-note actions run."),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.created, m.notes, m.closed, m.reopened, m.dropped, m.failures, m.retries, m.actions,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "cwbridge", Subsystem: "engine", Name: "paused",
			Help: "1 while forwarding is paused (credentials or permissions)."}, func() float64 {
			if e.isPaused() {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "cwbridge", Subsystem: "connectwise", Name: "requests_total",
			Help: "HTTP requests sent to ConnectWise."}, func() float64 {
			if c := e.Client(); c != nil {
				return float64(c.Requests())
			}
			return 0
		}),
	)
	return m
}
