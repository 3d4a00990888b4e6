//go:build !linux

package redisstore

// Elsewhere the sockets are not polled, and no cached copy is served.
const pollSupported = false

func pollDead(map[*watched]int) []*watched { return nil }
