package testkit

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ChromiumEnv is the environment variable that names the Chromium (or
// Chrome) program to use instead of the first of the usual paths.
const ChromiumEnv = "COLLECTKIT_CHROMIUM"

// chromiumTimeout bounds one browser run. A cold start on a busy machine
// takes seconds; a page that never finishes loading must still end the
// test.
const chromiumTimeout = 90 * time.Second

// Chromium returns the path of a Chromium that can run headless: the
// program ChromiumEnv names, else the first of /usr/bin/chromium,
// /usr/bin/chromium-browser and /usr/bin/google-chrome that exists. When
// there is none, the test is skipped, or failed when the environment
// variable CI is set.
func Chromium(t testing.TB) string {
	t.Helper()
	if path := os.Getenv(ChromiumEnv); path != "" {
		Program(t, path)
		return path
	}
	candidates := []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}
	for _, path := range candidates {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	missing(t, "no Chromium at %s (apt-get install chromium, or set %s to the program)", strings.Join(candidates, ", "), ChromiumEnv)
	return ""
}

// DumpDOM loads url in a headless Chromium and returns the document as
// the browser serialises it once the page has loaded: the DOM after the
// parser and any script ran, not the bytes the server sent. It fails the
// test when the browser cannot run or does not finish within a minute and
// a half, and skips it as Chromium does when there is no browser.
func DumpDOM(t testing.TB, url string) string {
	t.Helper()
	return runChromium(t, "--dump-dom", url)
}

// Screenshot loads url in a headless Chromium with a 1280x900 window and
// writes what it shows to file as a PNG, for a person to look at. It fails
// the test when the browser cannot run or writes no file.
func Screenshot(t testing.TB, url, file string) {
	t.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatalf("screenshot of %s: %v", url, err)
	}
	// Chromium keeps an old file when it fails, which would pass for a
	// new screenshot.
	if err := os.Remove(abs); err != nil && !os.IsNotExist(err) {
		t.Fatalf("screenshot of %s: %v", url, err)
	}
	runChromium(t, "--screenshot="+abs, "--window-size=1280,900", "--hide-scrollbars", url)
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("chromium wrote no screenshot of %s: %v", url, err)
	}
}

// runChromium runs the browser headless with a profile of its own (so that
// runs neither share state nor touch the user's) and returns its standard
// output.
func runChromium(t testing.TB, args ...string) string {
	t.Helper()
	path := Chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), chromiumTimeout)
	defer cancel()
	all := append([]string{
		"--headless=new",
		// The sandbox needs user namespaces or a setuid helper, which
		// containers and root lack; the pages are the test's own.
		"--no-sandbox",
		"--disable-gpu",
		"--user-data-dir=" + t.TempDir(),
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-extensions",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		// /dev/shm is often 64 MiB in containers, too small for the
		// renderer.
		"--disable-dev-shm-usage",
	}, args...)
	cmd := exec.CommandContext(ctx, path, all...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	// Helper processes that outlive a killed browser may hold the pipes.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not finish within %s; its stderr:\n%s", path, strings.Join(args, " "), chromiumTimeout, tail(stderr.String(), 20))
	}
	if err != nil {
		t.Fatalf("%s %s: %v; its stderr:\n%s", path, strings.Join(args, " "), err, tail(stderr.String(), 20))
	}
	return stdout.String()
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ScreenshotDirEnv is the environment variable that names a directory
// where tests leave their screenshots for a person to look at.
const ScreenshotDirEnv = "COLLECTKIT_SCREENSHOT_DIR"

// ScreenshotDir returns the directory ScreenshotDirEnv names, created if
// need be, or else a temporary directory removed after the test.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(ScreenshotDirEnv)
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("%s: %v", ScreenshotDirEnv, err)
	}
	return dir
}

// ReadPNG decodes the PNG file, failing the test when it is missing or not
// a PNG.
func ReadPNG(t testing.TB, file string) image.Image {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("read PNG: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", file, err)
	}
	return img
}
