package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/tetherhq/tether/internal/testenv/browser"
)

// The pages of issue 15, in headless Chromium (package
// internal/testenv/browser): each test starts `tether serve` and a browser
// of its own, and fails on any Content Security Policy violation the
// browser reports (noCSPViolations). Screenshots go to the test's temporary
// directory, and also to $TETHER_SCREENSHOTS when set (the README's
// pictures in docs/img/ come from
// `TETHER_SCREENSHOTS=$PWD/docs/img go test ./cmd/tether -run Browser`).

// page steps

func navigate(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("navigate to %s: %v", u, err)
	}
}

// waitPath waits until the tab's URL has path (and query) want.
func waitPath(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil {
			if u, err := url.Parse(loc); err == nil {
				got = u.RequestURI()
				if got == want {
					if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
						t.Fatalf("page %s did not finish loading: %v", want, err)
					}
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("tab location: got %q, want %q", got, want)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

// signIn fills in the sign-in form of the page the tab is on and submits it.
func signIn(t *testing.T, ctx context.Context, user, password string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
	); err != nil {
		t.Fatalf("sign in as %s: %v", user, err)
	}
}

func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	p := browser.Screenshot(t, ctx, t.TempDir(), name)
	if dir := os.Getenv("TETHER_SCREENSHOTS"); dir != "" {
		b, err := os.ReadFile(p)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
		}
		if err != nil {
			t.Fatalf("copy screenshot %s to %s: %v", name, dir, err)
		}
	}
}

// noCSPViolations fails the test on any CSP violation the browser logged.
func noCSPViolations(t *testing.T, b *browser.Browser) {
	t.Helper()
	if v := b.Violations(); len(v) > 0 {
		t.Fatalf("the browser reported CSP violations on the pages:\n%s", strings.Join(v, "\n"))
	}
}

// TestBrowserSignInOut: sign in with the form, see the account page, sign
// out; the session cookie leaves the browser's cookie store, the device
// cookie stays, and document.cookie never shows the session cookie
// (HttpOnly). Then the same with JavaScript off (issue 15).
func TestBrowserSignInOut(t *testing.T) {
	t.Parallel() // each has its own server and browser; they mostly wait
	in := start(t, t.TempDir(), env())
	b := browser.Start(t, browser.Options{})
	ctx := b.Main()

	navigate(t, ctx, in.base+"/account")
	waitPath(t, ctx, "/login")
	shot(t, ctx, "login")
	signIn(t, ctx, "alice", "correct-horse")
	waitPath(t, ctx, "/account")
	if got := text(t, ctx, ".devices tr.current th"); !strings.Contains(got, "Headless Chrome") || !strings.Contains(got, "This device") {
		t.Fatalf("this device's row: got %q, want Headless Chrome … This device", got)
	}
	shot(t, ctx, "account")

	sid := browser.Cookie(t, ctx, in.base, "sid")
	if sid == nil || !sid.HTTPOnly || sid.SameSite != "Lax" || sid.Path != "/" {
		t.Fatalf("session cookie in the browser: got %+v, want sid HttpOnly SameSite=Lax Path=/", sid)
	}
	t.Run("HttpOnly", func(t *testing.T) {
		dc := eval[string](t, ctx, "document.cookie")
		if strings.Contains(dc, "sid=") || strings.Contains(dc, sid.Value) {
			t.Fatalf("document.cookie shows the session cookie: %q", dc)
		}
	})

	click(t, ctx, `form[action="/logout"] button`)
	waitPath(t, ctx, "/login?reason=signed_out")
	if got := strings.TrimSpace(text(t, ctx, "#signin-reason")); got != "You signed out." {
		t.Fatalf("sign-in page message: got %q, want %q", got, "You signed out.")
	}
	if c := browser.Cookie(t, ctx, in.base, "sid"); c != nil {
		t.Fatalf("after sign-out the browser still holds the session cookie: %+v", c)
	}
	if c := browser.Cookie(t, ctx, in.base, "tether_device"); c == nil {
		t.Fatalf("after sign-out the device cookie is gone from the browser, want it kept (no Clear-Site-Data)")
	}

	t.Run("without JavaScript", func(t *testing.T) {
		ctx := b.Device()
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
		navigate(t, ctx, in.base+"/login")
		signIn(t, ctx, "alice", "correct-horse")
		waitPath(t, ctx, "/account")
		if js := eval[string](t, ctx, "document.documentElement.dataset.js || ''"); js != "" {
			t.Fatalf("scripts ran with JavaScript off: data-js=%q", js)
		}
		click(t, ctx, `form[action="/logout"] button`)
		waitPath(t, ctx, "/login?reason=signed_out")
	})
	noCSPViolations(t, b)
}
