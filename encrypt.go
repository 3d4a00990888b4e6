package tether

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"sync"
)

// EncryptionKeyBytes is the size of an encryption key ([Config.EncryptionKeys]):
// 32 random bytes, an AES-256 key.
const EncryptionKeyBytes = 32

// ErrUndecryptable is returned (wrapped) by a store made by [EncryptStore]
// for a record that none of its keys opens: a value or user ID sealed with a
// key that is no longer configured (a previous key dropped too early), a
// record or value moved to another store key or name, or one changed or
// written in the clear by someone with write access to the store.
//
// Such an error also matches [ErrNotFound], so the Manager treats the record
// as missing: the request goes on as a new anonymous session, the Manager
// logs session_rejected (reason unknown_session), and nothing of the record
// reaches the application (fail closed). It is not answered with 503: the
// condition is permanent, and a 503 would hold the browser on a session it
// can never use again until the absolute timeout. The record is not deleted
// either: during a rolling deploy an instance that lacks a key must not
// destroy sessions that its peers can still read; it expires with its idle
// deadline.
var ErrUndecryptable = errors.New("tether: session record cannot be decrypted with the configured encryption keys")

// undecryptableError is [ErrUndecryptable] (and [ErrNotFound]) with what
// failed. It never carries a key, a value or a store key.
type undecryptableError struct{ what, why string }

func (e *undecryptableError) Error() string {
	return fmt.Sprintf("%s: %s: %s", ErrUndecryptable.Error(), e.what, e.why)
}

func (e *undecryptableError) Is(target error) bool {
	return target == ErrUndecryptable || target == ErrNotFound
}

func undecryptable(what, why string) error { return &undecryptableError{what, why} }

// Sealed value layout, before base64url (no padding) and JSON quoting:
//
//	version (1 byte) | key ID (4) | nonce (12) | AES-256-GCM ciphertext and tag
//
// The AEAD key is derived per record from the configured key and the store
// key, and the associated data is sealLabel | version | key ID | length of
// the store key (4 bytes, big endian) | store key | value name. So a value
// opens only under the record and the name it was sealed for.
const (
	sealVersion  = 1
	keyIDBytes   = 4
	sealHeader   = 1 + keyIDBytes
	nonceBytes   = 12
	sealOverhead = sealHeader + nonceBytes + 16
	sealLabel    = "tether/value/v1\x00"
	recordLabel  = "tether/record/v1\x00"
	userLabel    = "tether/user/v1\x00"
	// maxSealedBytes bounds what the decoder accepts from the store: far
	// beyond any value the Manager writes (Config.MaxValueBytes is 64 KiB by
	// default), small enough that a corrupt store cannot make it allocate
	// without limit.
	maxSealedBytes = 16 << 20
)

// sealB64 is strict, as b64 is: one accepted encoding per sealed value.
var sealB64 = base64.RawURLEncoding.Strict()

// pseudonymPrefix starts the Record.UserID an encrypting store writes: an
// HMAC of the user ID, so that no user ID is stored in the clear while the
// store's per-user index still works. The prefix keeps a pseudonym from
// ever equalling a real user ID read by a Manager without keys.
const pseudonymPrefix = "enc1."

// sealKey is one configured key, expanded into purpose-bound subkeys.
type sealKey struct {
	id     [keyIDBytes]byte
	record *sync.Pool // HMAC-SHA256 states that derive the per-record AES-256-GCM keys
	user   []byte     // keys the user-ID pseudonyms
}

// macPool returns a pool of HMAC-SHA256 states keyed with key: keying one
// costs two hash states and the padded key, so they are reused.
func macPool(key []byte) *sync.Pool {
	return &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
}

// keyring holds the configured keys: the first seals, all open.
type keyring struct{ keys []sealKey }

// newKeyring checks and expands keys. Each problem is one error that names
// the key by its index ("EncryptionKeys[i]"), never by its bytes.
func newKeyring(keys [][]byte) (*keyring, []error) {
	if len(keys) == 0 {
		return nil, []error{errors.New("EncryptionKeys is empty: at least one key is needed")}
	}
	var errs []error
	r := &keyring{}
	for i, k := range keys {
		if len(k) != EncryptionKeyBytes {
			errs = append(errs, fmt.Errorf("EncryptionKeys[%d] is %d bytes; want exactly %d random bytes (AES-256)", i, len(k), EncryptionKeyBytes))
			continue
		}
		sk := sealKey{
			record: macPool(deriveKey(k, "tether/encryption/record/v1")),
			user:   deriveKey(k, "tether/encryption/user/v1"),
		}
		copy(sk.id[:], deriveKey(k, "tether/encryption/key-id/v1"))
		for j, o := range r.keys {
			if o.id == sk.id {
				errs = append(errs, fmt.Errorf("EncryptionKeys[%d] repeats an earlier key (or shares its key ID, index %d); generate a new one", i, j))
			}
		}
		r.keys = append(r.keys, sk)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// find returns the index of the key with ID id.
func (r *keyring) find(id []byte) (int, bool) {
	for i := range r.keys {
		if bytes.Equal(r.keys[i].id[:], id) {
			return i, true
		}
	}
	return 0, false
}

// recordAEAD returns the AES-256-GCM of key i for the record under storeKey.
// A key per record bounds the number of random nonces used under one AES
// key by the writes of one session, instead of every write the deployment
// ever makes (NIST SP 800-38D caps random 96-bit nonces at 2^32 per key).
func (r *keyring) recordAEAD(i int, storeKey string) cipher.AEAD {
	pool := r.keys[i].record
	h := pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(recordLabel))
	h.Write([]byte(storeKey))
	var key [sha256.Size]byte
	h.Sum(key[:0])
	pool.Put(h)
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// appendAAD appends to b the associated data of a value named name in the
// record under storeKey, sealed with header.
func appendAAD(b, header []byte, storeKey, name string) []byte {
	b = append(b, sealLabel...)
	b = append(b, header...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(storeKey)))
	b = append(b, storeKey...)
	return append(b, name...)
}

// recordCipher seals and opens the values of one record, deriving each
// key's AEAD once. It is used by one goroutine at a time.
type recordCipher struct {
	ring     *keyring
	storeKey string
	aeads    []cipher.AEAD // by key index, derived on first use
	ad       []byte        // associated data, reused from value to value
}

func (r *keyring) forRecord(storeKey string) *recordCipher {
	return &recordCipher{ring: r, storeKey: storeKey, aeads: make([]cipher.AEAD, len(r.keys))}
}

func (c *recordCipher) aead(i int) cipher.AEAD {
	if c.aeads[i] == nil {
		c.aeads[i] = c.ring.recordAEAD(i, c.storeKey)
	}
	return c.aeads[i]
}

// seal encrypts the JSON value v named name with the first key and returns
// it as a JSON string.
func (c *recordCipher) seal(name string, v json.RawMessage) json.RawMessage {
	raw := make([]byte, sealHeader+nonceBytes, sealOverhead+len(v))
	raw[0] = sealVersion
	copy(raw[1:sealHeader], c.ring.keys[0].id[:])
	_, _ = rand.Read(raw[sealHeader:]) // crypto/rand never fails
	c.ad = appendAAD(c.ad[:0], raw[:sealHeader], c.storeKey, name)
	raw = c.aead(0).Seal(raw, raw[sealHeader:], v, c.ad)
	out := make([]byte, 0, sealB64.EncodedLen(len(raw))+2)
	out = append(out, '"')
	out = sealB64.AppendEncode(out, raw)
	return append(out, '"')
}

// open decrypts a value sealed by seal under the same record and name.
// Everything else (malformed, unknown key, tampered, moved) is an error
// matching [ErrUndecryptable].
func (c *recordCipher) open(name string, v json.RawMessage) (json.RawMessage, error) {
	what := func() string { return fmt.Sprintf("value %q", name) }
	raw, err := decodeSealed(v)
	if err != nil {
		return nil, undecryptable(what(), err.Error())
	}
	i, ok := c.ring.find(raw[1:sealHeader])
	if !ok {
		return nil, undecryptable(what(), "sealed with a key that is not configured")
	}
	nonce, ct := raw[sealHeader:sealHeader+nonceBytes], raw[sealHeader+nonceBytes:]
	c.ad = appendAAD(c.ad[:0], raw[:sealHeader], c.storeKey, name)
	plain, err := c.aead(i).Open(ct[:0], nonce, ct, c.ad) // in place: raw is ours
	if err != nil {
		return nil, undecryptable(what(), "authentication failed (changed, or moved from another record or name)")
	}
	return plain, nil
}

// decodeSealed parses the stored form of a sealed value (a JSON string of
// base64url) and checks its version and length. It reads untrusted input:
// whatever is in the store.
func decodeSealed(v json.RawMessage) ([]byte, error) {
	if len(v) > maxSealedBytes {
		return nil, errors.New("too large")
	}
	var s []byte
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v, '\\') < 0 {
		s = v[1 : len(v)-1] // the form seal writes
	} else {
		var str string
		if err := json.Unmarshal(v, &str); err != nil {
			return nil, errors.New("not a sealed value (not a JSON string)")
		}
		s = []byte(str)
	}
	raw := make([]byte, sealB64.DecodedLen(len(s)))
	n, err := sealB64.Decode(raw, s)
	if err != nil {
		return nil, errors.New("not a sealed value (not base64url)")
	}
	raw = raw[:n]
	if len(raw) < sealOverhead {
		return nil, errors.New("truncated")
	}
	if raw[0] != sealVersion {
		return nil, fmt.Errorf("unknown format version %d", raw[0])
	}
	return raw, nil
}

// pseudonym returns the stored form of userID under key i: a keyed HMAC,
// deterministic so that the store's per-user index works on it. "" (an
// anonymous session) stays "".
func (r *keyring) pseudonym(i int, userID string) string {
	if userID == "" {
		return ""
	}
	h := hmac.New(sha256.New, r.keys[i].user)
	h.Write([]byte(userLabel))
	h.Write([]byte(userID))
	return pseudonymPrefix + hex.EncodeToString(h.Sum(nil)[:16])
}

// pseudonyms returns userID's pseudonym under every key, current first,
// so that lookups find sessions created before a rotation.
func (r *keyring) pseudonyms(userID string) []string {
	out := make([]string, len(r.keys))
	for i := range r.keys {
		out[i] = r.pseudonym(i, userID)
	}
	return out
}

// isPseudonymOf reports whether p is userID's pseudonym under one of the keys.
func (r *keyring) isPseudonymOf(p, userID string) bool {
	for _, q := range r.pseudonyms(userID) {
		if hmac.Equal([]byte(p), []byte(q)) {
			return true
		}
	}
	return false
}
