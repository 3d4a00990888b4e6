package server

import (
	"encoding/json"

	"github.com/tetherhq/tether"
)

// jsonValue decodes the session value key of info into dst.
func jsonValue(info tether.SessionInfo, key string, dst any) error {
	raw, ok := info.Values[key]
	if !ok {
		return nil
	}
	return json.Unmarshal(raw, dst)
}
