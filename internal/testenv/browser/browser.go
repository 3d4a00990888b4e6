// Package browser starts headless Chromium for tests and drives it with
// chromedp: the reference server's pages are judged by a real browser
// (cookie prefixes, SameSite, HttpOnly, CSP, framing), not by a Go cookie
// jar (issue 15). The DBSC tests reuse it: a test CA trusted through an NSS
// database in the browser's $HOME (see NewCA and Options.TrustCA) is what
// Chromium needs before it registers device-bound sessions; Options.DBSC
// turns them on (software keys, DevTools events), Options.DBSCNoQuota lifts
// Chromium's signing quota, WatchDBSC records what Chromium reports, and
// CookieParam and SetCookies replay a stolen cookie jar in another browser
// (dbsc.go, issue 16).
//
// A test that needs Chromium and cannot find it fails with a message that
// says what to install (scripts/test.sh installs it when run as root); it
// never skips.
package browser

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Path returns the Chromium binary: $TETHER_CHROMIUM, else chromium,
// chromium-browser or google-chrome on $PATH. It fails the test when there
// is none.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TETHER_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("browser tests need Chromium and none was found (looked for chromium, chromium-browser, google-chrome on $PATH, " +
		"and $TETHER_CHROMIUM): install the Debian package chromium (apt-get install chromium libnss3-tools), " +
		"or run scripts/test.sh as root to have it installed")
	return ""
}

// Options configure Start.
type Options struct {
	// TrustCA, when set, is a CA certificate (PEM) that the browser trusts:
	// Start puts it in an NSS database in the browser's own $HOME (Chromium
	// on Linux reads sql:$HOME/.pki/nssdb), so HTTPS to a server whose
	// certificate chains to it works without --ignore-certificate-errors
	// (which DBSC, for one, does not accept).
	TrustCA []byte
	// Flags are extra command-line switches, e.g. {"enable-features": "…"}
	// (joined with the features that DBSC turns on).
	Flags map[string]any
	// DBSC turns on Device Bound Session Credentials with software keys
	// and their DevTools events (see dbsc.go and WatchDBSC). Chromium only
	// registers over HTTPS with a trusted certificate: set TrustCA too.
	DBSC bool
	// DBSCNoQuota turns Chromium's DBSC signing quota off (6 signatures per
	// 9 minutes per site), for tests whose bound cookie lives seconds.
	DBSCNoQuota bool
}

// Browser is one headless Chromium process with its own profile and $HOME,
// both in the test's temporary directory; the test's cleanup stops it. Its
// tabs report console messages, and Violations returns those about the
// Content Security Policy.
type Browser struct {
	t    testing.TB
	root context.Context

	mu       sync.Mutex
	messages []string
}

// Start launches Chromium (headless, no sandbox: it runs as root in CI)
// and opens its first tab.
func Start(t testing.TB, o Options) *Browser {
	t.Helper()
	path := Path(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if o.TrustCA != nil {
		trustCA(t, home, o.TrustCA)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Env("HOME=" + home),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints,AutofillServerCommunication"),
		chromedp.WindowSize(1100, 860),
	}
	for k, v := range o.Flags {
		if k != "enable-features" {
			opts = append(opts, chromedp.Flag(k, v))
		}
	}
	if f := o.enableFeatures(); f != "" {
		opts = append(opts, chromedp.Flag("enable-features", f))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &Browser{t: t, root: ctx}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := b.watch(ctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	return b
}

// Tab returns the browser's first tab on the first call, and a new tab of
// the same profile (same cookies) after that.
func (b *Browser) Tab() context.Context {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.root)
	b.t.Cleanup(cancel)
	if err := b.watch(ctx); err != nil {
		b.t.Fatalf("new tab: %v", err)
	}
	return ctx
}

// Main is the browser's first tab.
func (b *Browser) Main() context.Context { return b.root }

// Device returns a tab in a new browser context: its own cookie store, as
// another device would have.
func (b *Browser) Device() context.Context {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := b.watch(ctx); err != nil {
		b.t.Fatalf("new browser context: %v", err)
	}
	return ctx
}

// watch opens the tab of ctx and records its console and log messages.
func (b *Browser) watch(ctx context.Context) error {
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, page.Enable, page.EnableParams{}); err != nil {
		return err
	}
	return chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *log.EventEntryAdded:
			b.note(string(e.Entry.Source) + ": " + e.Entry.Text)
		case *page.EventJavascriptDialogOpening:
			// Accept confirm() dialogs (destructive forms ask first); the
			// answer cannot be sent from here (see chromedp.Listen).
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	})
}

func (b *Browser) note(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.messages = append(b.messages, msg)
}

// Messages returns every console and log message of the browser's tabs.
func (b *Browser) Messages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.messages...)
}

// Violations returns the messages that report a Content Security Policy
// violation (a blocked script, style or frame).
func (b *Browser) Violations() []string {
	var out []string
	for _, m := range b.Messages() {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Content-Security-Policy") {
			out = append(out, m)
		}
	}
	return out
}

// Cookies returns the cookies that the browser of ctx would send to urls.
func Cookies(t testing.TB, ctx context.Context, urls ...string) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: urls})
	if err != nil {
		t.Fatalf("reading the browser's cookies: %v", err)
	}
	return res.Cookies
}

// Cookie returns the cookie named name for url, or nil.
func Cookie(t testing.TB, ctx context.Context, url, name string) *network.Cookie {
	t.Helper()
	for _, c := range Cookies(t, ctx, url) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Screenshot saves a PNG of the whole page of ctx as dir/name.png and
// returns its path.
func Screenshot(t testing.TB, ctx context.Context, dir, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
