package passwords

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash is returned for a stored hash that is not a canonical
// argon2id PHC string within the limits. It never quotes the hash.
var ErrMalformedHash = errors.New("passwords: stored hash is not a valid argon2id PHC string")

var b64 = base64.RawStdEncoding.Strict()

// format returns the PHC string for key derived with p and salt.
func format(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Parse decodes an argon2id PHC string strictly: version 19, the parameters
// in the order m, t, p without leading zeros or extra fields, unpadded
// standard base64, and every value within the package limits. Exactly one
// string encodes a given hash: format(Parse(s)) == s for every accepted s.
// Errors are ErrMalformedHash.
func Parse(phc string) (p Params, salt, key []byte, err error) {
	// base64 decoders skip \r and \n; refuse them so that exactly one string
	// encodes a hash (found by FuzzParsePHC).
	if len(phc) > maxPHCLen || strings.ContainsAny(phc, "\r\n") {
		return Params{}, nil, nil, ErrMalformedHash
	}
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, ErrMalformedHash
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return Params{}, nil, nil, ErrMalformedHash
	}
	var vals [3]uint64
	for i, name := range [...]string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(kv[i], name)
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') || v[0] == '+' {
			return Params{}, nil, nil, ErrMalformedHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return Params{}, nil, nil, ErrMalformedHash
		}
		vals[i] = n
	}
	if vals[2] > MaxThreads {
		return Params{}, nil, nil, ErrMalformedHash
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	p = Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]), SaltLen: len(salt), KeyLen: len(key)}
	if p.valid() != "" {
		return Params{}, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}
