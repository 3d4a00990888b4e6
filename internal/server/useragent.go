package server

import "strings"

// device is a browser and an operating system read from a User-Agent, for
// people ("Firefox 133 on Windows"): the "my devices" list. It is a guess
// from a header the client chooses, shown to its owner, never a security
// decision.
type device struct{ Browser, OS string }

func (d device) String() string {
	switch {
	case d.Browser == "" && d.OS == "":
		return "Unknown device"
	case d.OS == "":
		return d.Browser
	case d.Browser == "":
		return "Unknown browser on " + d.OS
	}
	return d.Browser + " on " + d.OS
}

// browsers are checked in order: Edge and Opera also say Chrome, Chrome
// also says Safari.
var browsers = []struct{ token, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
	{"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"HeadlessChrome/", "Headless Chrome"}, {"CriOS/", "Chrome"}, {"Chrome/", "Chrome"}, {"Chromium/", "Chromium"},
	{"Version/", "Safari"}, // Safari's version is in Version/, its name last
	{"curl/", "curl"},
}

// parseUserAgent reads the browser (with its major version) and the OS.
func parseUserAgent(ua string) device {
	var d device
	for _, b := range browsers {
		i := strings.Index(ua, b.token)
		if i < 0 || (b.name == "Safari" && !strings.Contains(ua, "Safari/")) {
			continue
		}
		d.Browser = b.name
		if v := majorVersion(ua[i+len(b.token):]); v != "" {
			d.Browser += " " + v
		}
		break
	}
	switch {
	case strings.Contains(ua, "iPhone"):
		d.OS = "iPhone"
	case strings.Contains(ua, "iPad"):
		d.OS = "iPad"
	case strings.Contains(ua, "Android"):
		d.OS = "Android"
	case strings.Contains(ua, "CrOS"):
		d.OS = "ChromeOS"
	case strings.Contains(ua, "Windows"):
		d.OS = "Windows"
	case strings.Contains(ua, "Mac OS X"), strings.Contains(ua, "Macintosh"):
		d.OS = "macOS"
	case strings.Contains(ua, "Linux"), strings.Contains(ua, "X11"):
		d.OS = "Linux"
	}
	return d
}

// majorVersion is the leading digits of s, at most 4.
func majorVersion(s string) string {
	n := 0
	for n < len(s) && n < 4 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return s[:n]
}
