package dbsc

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tetherhq/tether"
)

// Register serves the registration endpoint (POST Config.RegisterPath,
// mounted inside the Manager's Handler). It needs the browser's session
// cookie (a signed-in session, not yet bound) and a Secure-Session-Response
// proof ([VerifyRegistration]) whose challenge the session's offer issued.
// The challenge is consumed only once the signature verified (a forged
// proof cannot burn the browser's challenge), and the binding is stored
// only once the challenge was consumed. The answer is 200 with
// [Instructions] JSON and the bound cookie in a Set-Cookie.
//
// Refusals, each with a dbsc_refresh_failed event (step "register", a
// reason code, never the proof): 401 without a signed-in session, 409 for
// a session that is bound already, 400 for a missing or malformed proof or
// one that does not verify, 403 for an unknown, used or expired challenge,
// 503 during a store outage. Chromium treats every 4xx the same way (the
// registration fails and the session stays unbound, working as before).
func (b *Binder) Register(w http.ResponseWriter, r *http.Request) {
	s, ok := b.session(w, r)
	if !ok {
		return
	}
	fail := b.failer(w, r, "register")
	switch {
	case s.UserID() == "":
		fail(http.StatusUnauthorized, "not_signed_in", "Sign in first")
		return
	case s.BindingValue(KeyBinding) != nil:
		fail(http.StatusConflict, "already_bound", "This session is bound to a device already")
		return
	}
	jwt, err := ProofJWT(r.Header)
	switch {
	case errors.Is(err, ErrNoHeader):
		fail(http.StatusBadRequest, "no_proof", "A Secure-Session-Response proof is required")
		return
	case err != nil:
		fail(http.StatusBadRequest, "bad_proof", "The registration proof was refused")
		return
	}
	proof, err := VerifyRegistration(jwt, "")
	if err != nil {
		fail(http.StatusBadRequest, proofReason(err), "The registration proof was refused")
		return
	}
	if err := b.challenges(s).Consume(r.Context(), proof.Challenge); err != nil {
		if transient(err) {
			b.m.Error(w, r, err)
			return
		}
		fail(http.StatusForbidden, "challenge", "Unknown, used or expired challenge")
		return
	}
	id, err := NewSessionIdentifier()
	if err != nil {
		b.m.Error(w, r, err)
		return
	}
	key, _ := proof.Key.MarshalJSON() // cannot fail
	now := b.m.Now()
	raw, err := json.Marshal(binding{ID: id, At: now.Unix()})
	if err == nil {
		// One patch sets both: stored together or not at all.
		err = errors.Join(s.SetBindingValue(KeyBinding, raw), s.SetBindingValue(KeyPublicKey, key))
	}
	if err != nil {
		b.m.Error(w, r, err)
		return
	}
	if !b.answer(w, r, id) {
		return
	}
	b.m.Emit(r, tether.EventDBSCRegistered, slog.String("alg", proof.Key.Algorithm()), slog.String("thumbprint", proof.Key.Thumbprint()))
}

// answer writes a 200 with a new bound cookie for the binding id and the
// instructions; it reports false when it answered an error instead.
func (b *Binder) answer(w http.ResponseWriter, r *http.Request, id string) bool {
	now := b.m.Now()
	value, err := b.cookie.issue(id, now.Add(b.cfg.CookieTTL))
	var body []byte
	if err == nil {
		body, err = b.instructions(id)
	}
	if err != nil {
		b.m.Error(w, r, err)
		return false
	}
	h := w.Header()
	h.Add("Set-Cookie", b.cookie.setCookie(value, b.cfg.CookieTTL, b.attrs))
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return true
}

// instructions returns the registration answer for the binding id.
func (b *Binder) instructions(id string) ([]byte, error) {
	return Instructions{
		SessionIdentifier: id,
		RefreshURL:        b.cfg.RefreshPath,
		Credentials:       []Credential{{Name: b.cookie.name, Attributes: b.attrs}},
	}.Marshal()
}

// proofReason is the event's reason code for a refused proof.
func proofReason(err error) string {
	switch {
	case errors.Is(err, ErrAlgorithm):
		return "bad_alg"
	case errors.Is(err, ErrType):
		return "bad_type"
	case errors.Is(err, ErrKey):
		return "bad_key"
	case errors.Is(err, ErrSignature):
		return "bad_signature"
	case errors.Is(err, ErrClaims):
		return "bad_claims"
	case errors.Is(err, ErrAuthorization):
		return "bad_authorization"
	}
	return "bad_proof"
}

// transient reports whether err is a store outage (answered 503, which
// keeps the browser's DBSC session) rather than a refusal.
func transient(err error) bool {
	return errors.Is(err, tether.ErrStoreUnavailable)
}
