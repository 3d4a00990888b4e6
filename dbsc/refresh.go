package dbsc

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tetherhq/tether"
)

// Refresh serves the refresh endpoint (POST Config.RefreshPath, mounted
// inside the Manager's Handler and exempt from [Binder.Enforce]). The
// browser names its DBSC session in Sec-Secure-Session-Id and sends the
// session cookie:
//
//   - without a proof, or with a proof whose challenge is unknown, used or
//     expired (Chromium may resend a cached one): 403 with a fresh
//     Secure-Session-Challenge; the browser signs it at once;
//   - with a proof signed by the registered key ([VerifyRefresh]) over a
//     challenge the session issued: the challenge is taken with one atomic
//     increment (of two refreshes presenting one proof exactly one wins),
//     and the answer is 200 with a new bound cookie (new value, new
//     expiry) and the instructions; the next refresh needs a new
//     challenge.
//
// The failure rules of the package documentation decide the status: 503
// during a store outage and 429 when the session holds [MaxChallenges]
// outstanding challenges (both keep the browser's DBSC session: it
// retries); 400 for a missing identifier, a malformed proof, a bad
// signature or a key that is not the registered one, and 401 for a session
// that is gone, not bound, or bound under another identifier (these end
// the browser's DBSC session; its session cookie then fails enforcement
// and the user signs in again). Every refusal but the 403 emits
// dbsc_refresh_failed with a reason code; a success emits dbsc_refreshed.
func (b *Binder) Refresh(w http.ResponseWriter, r *http.Request) {
	s, ok := b.session(w, r)
	if !ok {
		return
	}
	fail := b.failer(w, r, "refresh")
	sid, err := SessionID(r.Header)
	if err != nil {
		fail(http.StatusBadRequest, "no_session_id", "A Sec-Secure-Session-Id header is required")
		return
	}
	bd, bound, bad := bindingOf(s.BindingValue(KeyBinding))
	switch {
	case !bound || s.UserID() == "":
		fail(http.StatusUnauthorized, "unknown_session", "No device-bound session here")
		return
	case bad:
		fail(http.StatusUnauthorized, "bad_binding", "No device-bound session here")
		return
	case subtle.ConstantTimeCompare([]byte(sid), []byte(bd.ID)) != 1:
		fail(http.StatusUnauthorized, "unknown_session", "No device-bound session here")
		return
	}
	jwt, err := ProofJWT(r.Header)
	if errors.Is(err, ErrNoHeader) {
		b.challenge(w, r, s, bd.ID)
		return
	}
	if err != nil {
		fail(http.StatusBadRequest, "bad_proof", "The refresh proof was refused")
		return
	}
	key, err := ParsePublicKey(s.BindingValue(KeyPublicKey))
	if err != nil {
		fail(http.StatusUnauthorized, "bad_binding", "No device-bound session here")
		return
	}
	proof, err := VerifyRefresh(jwt, key)
	if err != nil {
		fail(http.StatusBadRequest, proofReason(err), "The refresh proof was refused")
		return
	}
	switch err := b.challenges(s).Consume(r.Context(), proof.Challenge); {
	case err == nil:
	case transient(err):
		b.m.Error(w, r, err)
		return
	case errors.Is(err, tether.ErrSessionEnded):
		fail(http.StatusUnauthorized, "unknown_session", "No device-bound session here")
		return
	default:
		b.refused(r, "refresh", "challenge")
		b.challenge(w, r, s, bd.ID)
		return
	}
	if err := s.SetBindingValue(KeyRefreshed, []byte(strconv.FormatInt(b.m.Now().Unix(), 10))); err != nil {
		b.m.Error(w, r, err)
		return
	}
	if b.answer(w, r, bd.ID) {
		b.m.Emit(r, tether.EventDBSCRefreshed)
	}
}

// challenge answers 403 with a fresh Secure-Session-Challenge for the
// binding id, or 429 / 503 when none can be issued.
func (b *Binder) challenge(w http.ResponseWriter, r *http.Request, s *tether.Session, id string) {
	c := b.challenges(s)
	ch, err := c.Issue(r.Context())
	switch {
	case errors.Is(err, ErrTooManyChallenges):
		b.m.Emit(r, tether.EventRateLimited, slog.String("limit", "dbsc_challenge"))
		w.Header().Set("Retry-After", strconv.Itoa(int(c.ttl().Seconds())))
		tether.WriteJSONError(w, http.StatusTooManyRequests, "Too many outstanding challenges")
		return
	case err != nil:
		b.m.Error(w, r, err)
		return
	}
	v, err := ChallengeHeaderValue(ch, id)
	if err != nil {
		b.m.Error(w, r, err)
		return
	}
	w.Header().Set(HeaderChallenge, v)
	tether.WriteJSONError(w, http.StatusForbidden, "Sign the challenge in Secure-Session-Challenge")
}
