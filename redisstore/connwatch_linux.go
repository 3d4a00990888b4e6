//go:build linux

package redisstore

import (
	"syscall"
	"unsafe"
)

const pollSupported = true

type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

const (
	pollErr   = 0x8
	pollHup   = 0x10
	pollNval  = 0x20
	pollRdHup = 0x2000
)

// pollDead returns the connections whose peer has closed or reset them
// (POLLRDHUP, POLLHUP, POLLERR), or whose fd is unknown or invalid: one
// ppoll with a zero timeout. The caller holds w.mu (read) so no fd is
// released meanwhile.
func pollDead(conns map[*watched]int) []*watched {
	var buf [8]pollFd
	fds := buf[:0]
	var obuf [8]*watched
	owners := obuf[:0]
	var dead []*watched
	for c, fd := range conns {
		if fd < 0 {
			dead = append(dead, c)
			continue
		}
		fds = append(fds, pollFd{fd: int32(fd), events: pollRdHup})
		owners = append(owners, c)
	}
	if len(fds) == 0 {
		return dead
	}
	var ts syscall.Timespec
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return append(dead, owners...) // cannot tell: treat all as dead (fail closed)
		}
		break
	}
	for i, f := range fds {
		if f.revents&(pollRdHup|pollHup|pollErr|pollNval) != 0 {
			dead = append(dead, owners[i])
		}
	}
	return dead
}
