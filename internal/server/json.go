package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/tetherhq/tether"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// jsonType is the Content-Type of every JSON answer, shared between
// responses (net/http only reads it) so that setting it costs no allocation.
var jsonType = []string{"application/json; charset=utf-8"}

// jsonBufs holds the buffers writeJSON encodes into; a buffer that grew
// beyond maxPooledJSON (a long session list) is left to the collector.
var jsonBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledJSON = 16 << 10

// writeJSON writes v as JSON with status, followed by a newline: the bytes
// of json.Marshal plus "\n", encoded into a pooled buffer rather than a new
// slice per answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledJSON {
			jsonBufs.Put(buf)
		}
	}()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		tether.WriteJSONError(w, http.StatusInternalServerError, "Internal server error")
		return
	}
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
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
// malformed input with 400 and an oversized body with 413. A field given more
// than once is refused with 400 in both encodings (see decodeJSONObject for
// what "more than once" means in JSON).
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
		return decodeJSONObject(raw, fields)
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

// errMalformedJSON answers a JSON body that is not one well-formed object.
var errMalformedJSON = &httpError{http.StatusBadRequest, "Malformed JSON body: expected one object"}

// decodeJSONObject reads raw, which must hold exactly one JSON object, into
// fields, walking it with encoding/json's token stream so that a repeated key
// is seen instead of silently overwritten (json.Unmarshal keeps the last
// one). It answers 400 when:
//
//   - a top-level key appears twice, whatever the key (nested objects are
//     the values of fields we do not read, and are only checked for syntax);
//   - a key differs from a field read only in case ("USERNAME", "Username";
//     Unicode simple folding, as strings.EqualFold). encoding/json decoding
//     into a struct, and so most Go frameworks, proxies and WAFs, match keys
//     case-insensitively and keep the last match, while this function reads
//     the exact name: {"username":"alice","USERNAME":"bob"} would be alice
//     here and bob there. Two parsers reading two usernames from one login
//     body is the ambiguity the duplicate check removes, so a case variant
//     is refused, alone or not (alone it would be read by a struct decoder
//     and ignored here); no honest client sends one. With this rule, a body
//     accepted here reads the same through a struct decoder (FuzzDecodeForm);
//   - a field read is not a string (null leaves it empty, as before).
//
// Keys are never echoed in a message: they are the client's input and can be
// 1 MiB long.
func decodeJSONObject(raw []byte, fields map[string]*string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errMalformedJSON
	}
	seen := make(map[string]struct{})
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errMalformedJSON
		}
		key, ok := tok.(string)
		if !ok {
			return errMalformedJSON
		}
		if _, dup := seen[key]; dup {
			if _, read := fields[key]; read {
				return &httpError{http.StatusBadRequest, "Malformed JSON body: field " + key + " appears more than once"}
			}
			return &httpError{http.StatusBadRequest, "Malformed JSON body: a key appears more than once (keys must be unique)"}
		}
		seen[key] = struct{}{}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return errMalformedJSON
		}
		for name, dst := range fields {
			if !strings.EqualFold(key, name) {
				continue
			}
			if key != name {
				return &httpError{http.StatusBadRequest, "Malformed JSON body: a key differs from field " + name +
					" only in case (field names are case-sensitive, and a key may name a field once)"}
			}
			if err := json.Unmarshal(v, dst); err != nil {
				return &httpError{http.StatusBadRequest, "Field " + name + " must be a string"}
			}
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return errMalformedJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return errMalformedJSON // trailing data after the object
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
