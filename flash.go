package tether

// Values read once: Pop and its typed forms, and flash messages. They are
// built on the data API: a removal is Remove's, saved as a patch that
// deletes that key only, so a concurrent request's changes to other keys
// are kept.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Pop decodes the value stored under key into dst, as [Session.Get] does, and
// removes the key. It reports false, and leaves dst alone, when there is no
// such key. A value that does not decode into dst is left in the session
// and the error returned, so that it can be read as another type or removed.
// During a store outage Pop returns [Session.Err]'s error and removes
// nothing.
//
// The removal is saved with the session's other changes, before the
// response starts: call Pop before writing the response. After that, Pop
// returns [ErrResponseStarted] and the key stays (dst may have been filled).
// Pop reads and then removes: two requests on the same session at the same
// moment (or two goroutines of one request) can both read the value before
// either removes it.
func (s *Session) Pop(key string, dst any) (bool, error) {
	if err := s.Err(); err != nil {
		return false, err
	}
	raw := s.raw(key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return true, err
	}
	s.Remove(key)
	return true, s.Err() // ErrResponseStarted if the removal came too late
}

// take returns the stored JSON of key and removes the key; nil when there is
// none. Like Remove it has no error result: a removal after the response
// started is reported by Err. The caller must not modify the result.
func (s *Session) take(key string) json.RawMessage {
	raw := s.raw(key)
	if raw != nil {
		s.Remove(key)
	}
	return raw
}

// PopString is [Session.GetString] and then [Session.Remove] of key. Like the
// other typed Pops it reads as its getter does (the zero value when the key
// is missing or of another type) and removes the key whenever it exists,
// whatever the type of its value, as scs's do. Like Remove, the typed Pops
// have no error result: after the response has started they return the
// value, the key stays, and [Session.Err] reports [ErrResponseStarted]. Use
// [Session.Pop] to keep a value of another type, or to get the error.
func (s *Session) PopString(key string) string { return stringOf(s.take(key)) }

// PopBool is [Session.GetBool] and then [Session.Remove] of key (see
// [Session.PopString]).
func (s *Session) PopBool(key string) bool { return boolOf(s.take(key)) }

// PopInt is [Session.GetInt] and then [Session.Remove] of key (see
// [Session.PopString]).
func (s *Session) PopInt(key string) int { return intOf(s.take(key)) }

// PopInt64 is [Session.GetInt64] and then [Session.Remove] of key (see
// [Session.PopString]).
func (s *Session) PopInt64(key string) int64 { return int64Of(s.take(key)) }

// PopFloat64 is [Session.GetFloat64] and then [Session.Remove] of key (see
// [Session.PopString]).
func (s *Session) PopFloat64(key string) float64 { return float64Of(s.take(key)) }

// PopTime is [Session.GetTime] and then [Session.Remove] of key (see
// [Session.PopString]).
func (s *Session) PopTime(key string) time.Time { return timeOf(s.take(key)) }

// PopBytes is [Session.GetBytes] and then [Session.Remove] of key (see
// [Session.PopString]).
func (s *Session) PopBytes(key string) []byte { return bytesOf(s.take(key)) }

// flashPrefix begins the key of every flash message. Keys with this prefix
// are reserved: Flashes reads and removes them all.
const flashPrefix = "tether.flash."

// AddFlash queues msg for the next page the user sees: typically a handler
// of a POST adds "Saved." and answers 303 See Other, and the page it
// redirects to shows [Session.Flashes]. Messages wait in the session until
// they are read, across any number of requests, and are shown in the order
// they were added (across server instances, in the order of their clocks).
//
// Each message is its own value, under a key that begins with
// "tether.flash." (a prefix reserved for them; [Session.Keys] lists these
// keys), so messages added by concurrent requests are all kept. They count
// towards [Config.MaxValueBytes] like any value: AddFlash returns
// [ErrValueTooLarge] rather than grow the session beyond it. Like
// [Session.Set], it must be called before the response starts and creates
// the session (and its cookie) if there is none yet.
//
// A message is plain text: escape it where it is shown (html/template does).
// For messages with a kind (success, error) or a link, Set a value of your
// own type and read it with [Session.Pop].
func (s *Session) AddFlash(msg string) error {
	return s.Set(flashKey(), msg)
}

// Flashes returns the messages added with [Session.AddFlash] and not yet
// read, oldest first, and removes them, so that the next page does not show
// them again (but see Concurrency below). It returns
// nil when there is none, and [Session.Err]'s error (with no messages)
// during a store outage. The removal is saved before the response starts:
// call Flashes before writing the page. After that it returns
// [ErrResponseStarted] and no messages, and they stay for the next page.
//
// Concurrency: a message is never lost to a concurrent request (each request
// removes only the messages it read), but two requests of the same session
// that run at the same moment can both read a message before either has
// removed it, and both show it. That needs two page loads in flight at once
// (two tabs, or a page and a prefetch); the usual POST, 303, GET sequence of
// one tab shows each message once. Showing a notice such as "Saved." twice
// is harmless, so Flashes does not pay for a guarantee (it would need an
// atomic take in the [Store]); do not use flash messages for anything that
// must happen exactly once, and call Flashes only from handlers that render
// a page, not from API, polling or prefetch requests.
func (s *Session) Flashes() ([]string, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	var msgs []string
	for _, k := range s.Keys() { // sorted, so oldest first
		if !strings.HasPrefix(k, flashPrefix) {
			continue
		}
		raw := s.take(k)
		if err := s.Err(); err != nil { // too late: the messages stay for the next page
			return nil, err
		}
		if raw == nil { // removed meanwhile by another goroutine of this request
			continue
		}
		var msg string
		if json.Unmarshal(raw, &msg) == nil {
			msgs = append(msgs, msg)
		}
	}
	return msgs, nil
}

// lastFlash is the time stamp of the last flash key made by this process.
var lastFlash atomic.Int64

// flashKey returns a new flash message's key: flashPrefix, a time stamp in
// nanoseconds as 16 hex digits and 8 random hex digits (so that two server
// instances never make the same key). The stamp is the clock's, or one more
// than the process's last one if the clock has not moved past it, so keys
// made by one process sort in the order they were made.
func flashKey() string { return flashKeyAt(time.Now().UnixNano()) }

func flashKeyAt(now int64) string {
	for {
		last := lastFlash.Load()
		next := max(now, last+1)
		if lastFlash.CompareAndSwap(last, next) {
			now = next
			break
		}
	}
	var r [4]byte
	_, _ = rand.Read(r[:]) // never fails (crypto/rand)
	stamp := strconv.FormatUint(uint64(now), 16)
	return flashPrefix + strings.Repeat("0", 16-len(stamp)) + stamp + "." + hex.EncodeToString(r[:])
}
