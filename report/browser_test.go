package report

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser is a headless Chromium driven over the DevTools protocol, whose messages travel on
// a pair of pipes (--remote-debugging-pipe: Chromium reads its fd 3 and writes its fd 4, a
// JSON message each, ended by a NUL byte), so that a test needs no WebSocket client and no
// module besides the standard library.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	send    *os.File
	session string // of the page the commands drive

	mu      sync.Mutex
	nextID  int
	replies map[int]chan cdpMessage
	events  []cdpMessage
	exited  chan struct{}
}

// cdpMessage is a DevTools protocol message: a reply (ID) or an event (Method).
type cdpMessage struct {
	ID        int             `json:"id"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	Result    json.RawMessage `json:"result"`
	Error     *struct{ Message string }
	SessionID string `json:"sessionId"`
}

// chromiumFlags start Chromium headless and quiet on a machine without a network, a display
// or a GPU, as root.
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync", "--log-level=3", "--remote-debugging-pipe"}

// startBrowser starts Chromium with one page of width × height pixels, or skips the test if
// Chromium is not installed.
func startBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil && os.Getenv("ERLGO_REQUIRE_BROWSER") != "" {
		t.Fatal("ERLGO_REQUIRE_BROWSER is set, but chromium is not on the PATH")
	}
	if err != nil {
		t.Skip("the viewer's browser test needs headless Chromium, which is not installed: on Debian, apt-get install chromium (see .ci/run)")
	}
	toChromium, chromiumIn, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	chromiumOut, fromChromium, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, send: chromiumIn, replies: map[int]chan cdpMessage{}, exited: make(chan struct{})}
	b.cmd = exec.Command(path, append(chromiumFlags, "--user-data-dir="+t.TempDir(), "about:blank")...)
	b.cmd.ExtraFiles = []*os.File{toChromium, fromChromium} // its fds 3 and 4
	var stderr bytes.Buffer
	b.cmd.Stderr = &stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toChromium.Close()
	fromChromium.Close()
	go b.read(chromiumOut)
	go func() { b.cmd.Wait(); close(b.exited) }()
	t.Cleanup(func() {
		b.call("Browser.close", nil, nil)
		select {
		case <-b.exited:
		case <-time.After(10 * time.Second):
			b.cmd.Process.Kill()
		}
		chromiumIn.Close()
		if t.Failed() {
			t.Logf("Chromium's standard error:\n%s", stderr.String())
		}
	})

	var targets struct {
		TargetInfos []struct{ TargetID, Type string }
	}
	b.call("Target.getTargets", nil, &targets)
	page := ""
	for _, ti := range targets.TargetInfos {
		if ti.Type == "page" {
			page = ti.TargetID
		}
	}
	if page == "" {
		t.Fatal("Chromium opened no page")
	}
	var attached struct{ SessionID string }
	b.call("Target.attachToTarget", map[string]any{"targetId": page, "flatten": true}, &attached)
	b.session = attached.SessionID
	b.call("Page.enable", nil, nil)
	b.call("Runtime.enable", nil, nil)
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil)
	return b
}

// read hands each message from Chromium to the call waiting for it, or keeps it as an event.
func (b *browser) read(from *os.File) {
	r := bufio.NewReader(from)
	for {
		raw, err := r.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if ch, ok := b.replies[m.ID]; ok && m.Method == "" {
			delete(b.replies, m.ID)
			ch <- m
		} else if m.Method != "" {
			b.events = append(b.events, m)
		}
		b.mu.Unlock()
	}
}

// call sends a command to the page (or, before one is attached, to the browser) and decodes
// its result into result, failing the test on an error or after 30 seconds.
func (b *browser) call(method string, params any, result any) {
	b.t.Helper()
	if params == nil {
		params = struct{}{}
	}
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.replies[id] = ch
	b.mu.Unlock()
	m := map[string]any{"id": id, "method": method, "params": params}
	if b.session != "" {
		m["sessionId"] = b.session
	}
	msg, err := json.Marshal(m)
	if err != nil {
		b.t.Fatal(err)
	}
	if _, err := b.send.Write(append(msg, 0)); err != nil {
		if method == "Browser.close" {
			return
		}
		b.t.Fatalf("%s: %v", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			b.t.Fatalf("%s: %s", method, m.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				b.t.Fatalf("%s: %v", method, err)
			}
		}
	case <-b.exited:
		if method != "Browser.close" {
			b.t.Fatalf("%s: Chromium exited", method)
		}
	case <-time.After(30 * time.Second):
		b.t.Fatalf("%s: no reply in 30 s", method)
	}
}

// open loads url and waits for its load event.
func (b *browser) open(url string) {
	b.t.Helper()
	b.call("Page.navigate", map[string]any{"url": url}, nil)
	for deadline := time.Now().Add(30 * time.Second); !b.saw("Page.loadEventFired"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.t.Fatalf("%s did not load in 30 s", url)
		}
	}
}

// saw reports whether an event named method has arrived.
func (b *browser) saw(method string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.events {
		if e.Method == method {
			return true
		}
	}
	return false
}

// exceptions returns the uncaught exceptions of the page's script so far.
func (b *browser) exceptions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, e := range b.events {
		if e.Method == "Runtime.exceptionThrown" {
			out = append(out, string(e.Params))
		}
	}
	return out
}

// eval evaluates a JavaScript expression in the page and decodes its value into result.
func (b *browser) eval(expr string, result any) {
	b.t.Helper()
	var r struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *struct{ Text string }
	}
	b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r)
	if r.ExceptionDetails != nil {
		b.t.Fatalf("%s: %s", expr, r.ExceptionDetails.Text)
	}
	if result != nil {
		if err := json.Unmarshal(r.Result.Value, result); err != nil {
			b.t.Fatalf("%s = %s: %v", expr, r.Result.Value, err)
		}
	}
}

// text returns the text of the element selector names ("" if there is none).
func (b *browser) text(selector string) string {
	b.t.Helper()
	var s string
	b.eval(fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, selector), &s)
	return s
}

// count returns the number of elements selector names.
func (b *browser) count(selector string) int {
	b.t.Helper()
	var n int
	b.eval(fmt.Sprintf(`document.querySelectorAll(%q).length`, selector), &n)
	return n
}

// click clicks the element selector names as a person would: the mouse pressed and released
// at the element's centre, once it is scrolled into view and nothing covers it there.
func (b *browser) click(selector string) {
	b.t.Helper()
	var at struct {
		X, Y float64
		OK   bool
	}
	b.eval(fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		if (!e) return {ok: false};
		e.scrollIntoView({block: "center"});
		const r = e.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
		return {x, y, ok: e.contains(document.elementFromPoint(x, y))};
	})()`, selector), &at)
	if !at.OK {
		b.t.Fatalf("cannot click %s: it is not on the page, or something covers it", selector)
	}
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		b.call("Input.dispatchMouseEvent", map[string]any{"type": typ, "x": at.X, "y": at.Y, "button": "left", "clickCount": 1}, nil)
	}
}

// screenshot writes a PNG of the whole page to path.
func (b *browser) screenshot(path string) {
	b.t.Helper()
	var shot struct{ Data string }
	b.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &shot)
	img, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, img, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// screenshotDir is where the browser tests keep their screenshots: $ERLGO_SCREENSHOTS if set
// (to look at them), else the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if dir := os.Getenv("ERLGO_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// checkScreenshot fails t unless path holds a PNG of at least w × h pixels.
func checkScreenshot(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width < w || cfg.Height < h {
		t.Errorf("screenshot %s: %dx%d (%v), want at least %dx%d", path, cfg.Width, cfg.Height, err, w, h)
	}
}

// fileURL is the file:// URL of path.
func fileURL(t *testing.T, path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return "file://" + strings.ReplaceAll(abs, " ", "%20")
}
