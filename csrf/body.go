package csrf

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
)

// DefaultMaxBodyBytes is the default of [Options.MaxBodyBytes]: how much of
// a form body the check reads, at most, to find the csrf_token field.
const DefaultMaxBodyBytes = 1 << 20

// formToken returns the csrf_token field of r's form body, "" when the body
// is not a form or has no such field. It reads at most limit bytes of the
// body, and always leaves r.Body delivering the whole body, byte for byte,
// to the handler: what it read, replayed from memory, then the rest.
func formToken(r *http.Request, limit int64) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return "", nil
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return "", nil
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		return urlencodedToken(r, limit)
	case "multipart/form-data":
		if params["boundary"] == "" {
			return "", nil // not parseable as a form by the handler either
		}
		return multipartToken(r, params["boundary"], limit)
	}
	return "", nil
}

// body reads the request body for the check: what it has read is kept in
// seen, at most limit bytes are read, and the first read error that is not
// the end of the body is kept in err.
type body struct {
	r     io.Reader
	seen  bytes.Buffer
	left  int64 // bytes still allowed
	err   error
	limit int64 // the configured limit, for the error message
}

// newBody reads r's body up to limit bytes, plus extra: urlencodedToken
// reads one byte more to tell a body of exactly limit bytes from a longer
// one.
func newBody(r *http.Request, limit, extra int64) *body {
	return &body{r: r.Body, left: limit + extra, limit: limit}
}

func (b *body) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	b.seen.Write(p[:n])
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// exhausted reports whether the check stopped at the limit rather than at
// the end of the body.
func (b *body) exhausted() bool { return b.left <= 0 }

// failure is the error for a body the check could not finish: a read
// error, or the limit.
func (b *body) failure(multipart bool) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(b.err, &mbe):
		return &tooLarge{limit: min(b.limit, mbe.Limit), multipart: multipart}
	case b.err != nil:
		return ErrBodyRead
	case b.exhausted():
		return &tooLarge{limit: b.limit, multipart: multipart}
	}
	return nil
}

// restore puts back what the check read in front of the unread rest.
func (b *body) restore(r *http.Request) {
	r.Body = &replay{Reader: io.MultiReader(bytes.NewReader(b.seen.Bytes()), r.Body), c: r.Body}
}

// replay is a request body that was partly read: the part read, then the
// rest. Close closes the original body.
type replay struct {
	io.Reader
	c io.Closer
}

func (r *replay) Close() error { return r.c.Close() }

// urlencodedToken needs the whole body: a field can be anywhere in it.
func urlencodedToken(r *http.Request, limit int64) (string, error) {
	b := newBody(r, limit, 1)
	defer b.restore(r)
	if _, err := io.Copy(io.Discard, b); err != nil || b.err != nil {
		return "", b.failure(false)
	}
	if int64(b.seen.Len()) > limit {
		return "", &tooLarge{limit: limit}
	}
	vals, err := url.ParseQuery(b.seen.String())
	if err != nil {
		return "", nil // malformed: no token (the handler's ParseForm fails too)
	}
	return vals.Get(FormField), nil
}

// multipartToken reads parts in order until the first csrf_token field that
// is not a file, the end of the form or the limit. Browsers send fields in
// document order, so with the hidden input before any file input the check
// reads a few hundred bytes of an upload of any size; everything after the
// token field is left to the handler, unread.
func multipartToken(r *http.Request, boundary string, limit int64) (string, error) {
	b := newBody(r, limit, 0)
	defer b.restore(r)
	mr := multipart.NewReader(b, boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return "", nil // the whole form, no token field
		}
		if err != nil {
			if f := b.failure(true); f != nil {
				return "", f
			}
			return "", nil // malformed: no token
		}
		if p.FormName() != FormField || p.FileName() != "" {
			continue // NextPart skips the rest of this part
		}
		v, err := io.ReadAll(p)
		if err != nil {
			if f := b.failure(true); f != nil {
				return "", f
			}
			return "", nil
		}
		return string(v), nil
	}
}
