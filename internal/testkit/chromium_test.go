package testkit

import (
	"fmt"
	"image/color"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChromiumFromTheEnvironment(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	absent := filepath.Join(t.TempDir(), "no-such-chromium")
	tests := []struct {
		name     string
		env      string
		ci       string
		wantPath string
		skip     string // in the skip message; "" when none
		fatal    string // in the failure message; "" when none
	}{
		{"present", exe, "", exe, "", ""},
		{"missing", absent, "", absent, absent + " is missing", ""},
		{"missing under CI", absent, "1", absent, "", absent + " is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(ChromiumEnv, tt.env)
			t.Setenv("CI", tt.ci)
			if tt.ci == "" {
				require.NoError(t, os.Unsetenv("CI"))
			}
			r := &recordTB{TB: t}
			assert.Equal(t, tt.wantPath, Chromium(r))
			if tt.skip == "" {
				assert.Empty(t, r.skip)
			} else {
				assert.Contains(t, r.skip, tt.skip)
			}
			if tt.fatal == "" {
				assert.Empty(t, r.fatal)
			} else {
				assert.Contains(t, r.fatal, tt.fatal)
			}
		})
	}
}

func TestScreenshotDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shots", "here")
	t.Setenv(ScreenshotDirEnv, dir)
	assert.Equal(t, dir, ScreenshotDir(t))
	assert.DirExists(t, dir)

	require.NoError(t, os.Unsetenv(ScreenshotDirEnv))
	assert.DirExists(t, ScreenshotDir(t))
}

// page serves body as an HTML page for the browser tests.
func page(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestDumpDOMIsTheDocumentAfterScripts(t *testing.T) {
	Chromium(t)
	url := page(t, `<!doctype html><title>t</title><p id="static">served &amp; parsed</p>
<script>const p = document.createElement("p"); p.id = "made"; p.textContent = "made by " + "script"; document.body.append(p);</script>`)
	dom := DumpDOM(t, url)
	assert.Contains(t, dom, `<p id="static">served &amp; parsed</p>`)
	assert.Contains(t, dom, `<p id="made">made by script</p>`)
}

func TestScreenshotIsThePage(t *testing.T) {
	Chromium(t)
	// The top half red, the bottom half blue: a blank or wrongly sized
	// capture cannot pass.
	url := page(t, `<!doctype html><style>html,body{margin:0;height:100%}
div{height:50%}</style><div style="background:#d00000"></div><div style="background:#0000d0"></div>`)
	file := filepath.Join(ScreenshotDir(t), "testkit-screenshot.png")
	Screenshot(t, url, file)
	img := ReadPNG(t, file)
	require.Equal(t, 1280, img.Bounds().Dx())
	require.Equal(t, 900, img.Bounds().Dy())
	assert.Equal(t, color.RGBA{0xd0, 0, 0, 0xff}, color.RGBAModel.Convert(img.At(640, 200)))
	assert.Equal(t, color.RGBA{0, 0, 0xd0, 0xff}, color.RGBAModel.Convert(img.At(640, 700)))
}

func TestReadPNGRefusesOtherFiles(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not.png")
	require.NoError(t, os.WriteFile(file, []byte("GIF89a"), 0o644))
	r := &recordTB{TB: t}
	ReadPNG(r, file)
	assert.Contains(t, r.fatal, file+" is not a PNG")
}
