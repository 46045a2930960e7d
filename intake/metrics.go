package intake

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cwbridge/cwbridge/storage"
)

// metrics are the intake's Prometheus series.
type metrics struct {
	requests   *prometheus.CounterVec   // route, code
	duration   *prometheus.HistogramVec // route
	accepted   prometheus.Counter
	duplicates prometheus.Counter
	rejected   *prometheus.CounterVec // reason
}

func newMetrics(reg prometheus.Registerer, st *storage.Store) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cwbridge_intake_requests_total",
			Help: "Intake HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cwbridge_intake_request_duration_seconds",
			Help:    "Intake HTTP request duration by route; POST /v1/incidents includes the fsync.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cwbridge_intake_incidents_accepted_total",
			Help: "Incidents durably queued.",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cwbridge_intake_incidents_duplicates_total",
			Help: "Incidents whose id was already stored (or repeated in the batch).",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cwbridge_intake_batches_rejected_total",
			Help: "POST /v1/incidents requests refused with nothing stored, by reason (invalid, too_large, media_type, queue_full, unavailable, store_error).",
		}, []string{"reason"}),
	}
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cwbridge_intake_queue_depth",
		Help: "Pending outbox items (what MaxQueue is compared with).",
	}, func() float64 { return float64(st.QueueLen()) })
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.accepted, m.duplicates, m.rejected, queue} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}
