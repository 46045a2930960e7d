package intake

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cwbridge/cwbridge/storage"
)

// retryAfter is what 503 answers ask callers to wait, in seconds.
const retryAfter = "5"

// bufPool recycles request body buffers; at 20k incidents/s a fresh 40 KiB
// buffer per batch is most of the garbage.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuf = 4 << 20

// readBody reads the body up to limit; false means an error was answered.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64, buf *bytes.Buffer) bool {
	if r.ContentLength > limit {
		s.m.rejected.WithLabelValues("too_large").Inc()
		writeError(w, http.StatusRequestEntityTooLarge, "body over the limit of "+strconv.FormatInt(limit, 10)+" bytes")
		return false
	}
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.m.rejected.WithLabelValues("too_large").Inc()
		writeError(w, http.StatusRequestEntityTooLarge, "body over the limit of "+strconv.FormatInt(limit, 10)+" bytes")
		return false
	case err != nil:
		writeError(w, http.StatusBadRequest, "cannot read the body")
		return false
	}
	return true
}

// postIncidents is POST /v1/incidents: all of the batch is stored, or none.
func (s *Server) postIncidents(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if _, ok := mediaType(ct); !ok {
		s.m.rejected.WithLabelValues("media_type").Inc()
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be "+ContentTypeJSON+" or "+ContentTypeNDJSON)
		return
	}
	// A compressed body would only fail later as malformed JSON.
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		s.m.rejected.WithLabelValues("media_type").Inc()
		writeError(w, http.StatusUnsupportedMediaType, "Content-Encoding "+quoteShort(ce)+" is not supported; send the body uncompressed")
		return
	}
	// Refuse before reading: a full queue means the engine is behind (or
	// ConnectWise is down), and the caller should hold its data.
	if q := s.o.Store.QueueLen(); q >= s.o.MaxQueue {
		s.m.rejected.WithLabelValues("queue_full").Inc()
		w.Header().Set("Retry-After", retryAfter)
		writeError(w, http.StatusServiceUnavailable, "queue full ("+strconv.Itoa(q)+" pending); retry later")
		return
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuf {
			bufPool.Put(buf)
		}
	}()
	if !s.readBody(w, r, s.o.MaxBodyBytes, buf) {
		return
	}
	incs, ierr := Decode(ct, buf.Bytes())
	if ierr == nil {
		ierr = s.checkTypes(incs)
	}
	if ierr != nil {
		s.m.rejected.WithLabelValues("invalid").Inc()
		s.log.Debug("intake: batch refused", "index", ierr.Index, "field", ierr.Field, "error", ierr.Msg)
		writeItemError(w, ierr)
		return
	}
	// The store stamps state and receipt time, in the commit.
	accepted, dups, err := s.o.Store.EnqueueIncidents(r.Context(), incs)
	switch {
	case errors.Is(err, storage.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// Shutting down, or the caller left: nothing promised; retrying is
		// safe because enqueue is idempotent on id.
		s.m.rejected.WithLabelValues("unavailable").Inc()
		w.Header().Set("Retry-After", retryAfter)
		writeError(w, http.StatusServiceUnavailable, "intake is shutting down; retry later")
		return
	case errors.Is(err, storage.ErrInvalid):
		s.m.rejected.WithLabelValues("invalid").Inc()
		writeError(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		s.m.rejected.WithLabelValues("store_error").Inc()
		s.log.Error("intake: cannot store incidents", "count", len(incs), "error", err)
		writeError(w, http.StatusInternalServerError, "cannot store the incidents; retry later")
		return
	}
	s.m.accepted.Add(float64(accepted))
	s.m.duplicates.Add(float64(dups))
	writeJSON(w, http.StatusAccepted, struct {
		Accepted   int `json:"accepted"`
		Duplicates int `json:"duplicates"`
	}{accepted, dups})
}

// checkTypes asks KnownAlertType once per distinct type of the batch.
func (s *Server) checkTypes(incs []storage.Incident) *ItemError {
	var known map[string]bool
	for i, inc := range incs {
		ok, seen := known[inc.Type]
		if !seen {
			ok = s.o.KnownAlertType(inc.Type)
			if known == nil {
				known = map[string]bool{}
			}
			known[inc.Type] = ok
		}
		if !ok {
			return &ItemError{Index: i, Field: "type", Msg: "unknown alert type " + quoteShort(inc.Type) + ": not built in and no route is configured for it"}
		}
	}
	return nil
}

// incidentStatus is GET /v1/incidents/{id}.
type incidentStatus struct {
	ID       string                `json:"id"`
	Key      string                `json:"key"`
	State    storage.IncidentState `json:"state"`
	TicketID int                   `json:"ticket_id"`
	Error    string                `json:"error"`
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request, id string) {
	if id == "" {
		writeError(w, http.StatusNotFound, "no incident id in the path")
		return
	}
	inc, err := s.o.Store.Incident(id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, "no incident with id "+quoteShort(id))
		return
	case err != nil:
		s.log.Error("intake: cannot read incident", "error", err)
		writeError(w, http.StatusInternalServerError, "cannot read the incident")
		return
	}
	writeJSON(w, http.StatusOK, incidentStatus{ID: inc.ID, Key: inc.Key, State: inc.State, TicketID: inc.TicketID, Error: inc.Error})
}

func (s *Server) healthz(w http.ResponseWriter) {
	h := s.o.Health()
	if h.ConnectWise == "" {
		h.ConnectWise = "unknown"
	}
	var until *time.Time
	if !h.ThrottledUntil.IsZero() {
		t := h.ThrottledUntil.UTC()
		until = &t
	}
	writeJSON(w, http.StatusOK, struct {
		Status         string     `json:"status"`
		Queue          int        `json:"queue"`
		Failed         int        `json:"failed"`
		ConnectWise    string     `json:"connectwise"`
		ErrorRate      float64    `json:"connectwise_error_rate"`
		ThrottledUntil *time.Time `json:"throttled_until,omitempty"`
	}{"ok", s.o.Store.QueueLen(), h.Failed, h.ConnectWise, h.ErrorRate, until})
}
