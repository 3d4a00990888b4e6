package server

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/tetherhq/tether"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// jsonType is the Content-Type of every JSON answer, shared between
// responses (net/http only reads it) so that setting it costs no allocation.
var jsonType = []string{"application/json; charset=utf-8"}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		tether.WriteJSONError(w, http.StatusInternalServerError, "Internal server error")
		return
	}
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// httpError is a client error with its status and public message.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if errors.As(err, &he) {
		tether.WriteJSONError(w, he.status, he.msg)
		return
	}
	tether.WriteJSONError(w, http.StatusInternalServerError, "Internal server error")
}

// decodeForm reads a JSON object or an urlencoded form into dst, whose fields
// are strings tagged `json:"name"`; form fields use the same names. It bounds
// the body at MaxBodyBytes and answers the wrong content type with 415,
// malformed input with 400 and an oversized body with 413.
func decodeForm(w http.ResponseWriter, r *http.Request, fields map[string]*string) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		mt = ""
	}
	if mt != "application/json" && mt != "application/x-www-form-urlencoded" {
		return &httpError{http.StatusUnsupportedMediaType, "Content-Type must be application/json or application/x-www-form-urlencoded"}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return bodyErr(err)
	}
	if mt == "application/json" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return &httpError{http.StatusBadRequest, "Malformed JSON body: expected an object"}
		}
		for name, dst := range fields {
			v, ok := obj[name]
			if !ok {
				continue
			}
			if err := json.Unmarshal(v, dst); err != nil {
				return &httpError{http.StatusBadRequest, "Field " + name + " must be a string"}
			}
		}
		return nil
	}
	vals, err := url.ParseQuery(string(raw))
	if err != nil {
		return &httpError{http.StatusBadRequest, "Malformed form body"}
	}
	for name, dst := range fields {
		if len(vals[name]) > 1 {
			return &httpError{http.StatusBadRequest, "Field " + name + " is repeated"}
		}
		*dst = vals.Get(name)
	}
	return nil
}

func bodyErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &httpError{http.StatusRequestEntityTooLarge, "Request body too large (limit 1 MiB)"}
	}
	if strings.Contains(err.Error(), "timeout") {
		return &httpError{http.StatusRequestTimeout, "Request body not received in time"}
	}
	return &httpError{http.StatusBadRequest, "Could not read the request body"}
}

// sessionError answers a failed session operation.
func (s *Server) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	status, _ := tether.StatusOf(err)
	if status >= 500 {
		s.log.Error("session store", "err", err)
	}
	tether.DefaultErrorHandler(w, r, err)
}
