// Package static embeds the console's browser assets (our css, js and img, plus the
// third-party files that `npm run assets` copies into vendor/) and serves them with
// content-hashed names, so a release can cache them forever and still never serve a
// stale file.
//
// Templates link assets through URL, never by literal path:
//
//	<script src={ static.URL("vendor/htmx.min.js") } defer></script>
//	// → /static/vendor/htmx.min.1a2b3c4d.js
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

// Prefix is the URL path under which Handler serves the embedded files.
const Prefix = "/static/"

// all:vendor keeps vendor/.gitkeep, so a fresh clone (where vendor/ holds nothing else)
// still compiles; Verify tells at start-up whether `npm run assets` was run.
//
//go:embed all:vendor css js img vendor.json
var files embed.FS

// served lists the embedded directories that are reachable over HTTP.
var served = []string{"vendor", "css", "js", "img"}

type asset struct {
	name   string // path below Prefix, e.g. "vendor/htmx.min.js"
	hashed string // e.g. "vendor/htmx.min.1a2b3c4d.js"
	etag   string
	ctype  string
	data   []byte
}

var (
	byName   = map[string]*asset{}
	byHashed = map[string]*asset{}
)

func init() {
	for _, dir := range served {
		err := fs.WalkDir(files, dir, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || strings.HasPrefix(path.Base(name), ".") {
				return nil // .gitkeep and friends are for git, not browsers
			}
			data, err := files.ReadFile(name)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			a := &asset{
				name:   name,
				hashed: hashedName(name, hex.EncodeToString(sum[:4])),
				etag:   `"` + hex.EncodeToString(sum[:16]) + `"`,
				ctype:  contentType(name),
				data:   data,
			}
			byName[a.name] = a
			byHashed[a.hashed] = a
			return nil
		})
		if err != nil {
			panic(fmt.Sprintf("static: reading embedded %s: %v", dir, err))
		}
	}
}

// hashedName inserts the hash before the last extension: app.css → app.<hash>.css.
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	if ext == "" || strings.Contains(ext, "/") {
		return name + "." + hash
	}
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

// URL returns the cache-busting URL of the embedded file name (relative to static/,
// e.g. "vendor/htmx.min.js" or "css/app.css"). An unknown name yields its unhashed URL,
// which answers 404: a missing asset shows up in the browser, it does not break rendering.
func URL(name string) string {
	if a, ok := byName[name]; ok {
		return Prefix + a.hashed
	}
	return Prefix + name
}

// Exists reports whether name (relative to static/, unhashed) is embedded.
func Exists(name string) bool {
	_, ok := byName[name]
	return ok
}

// Verify reports the vendor files listed in static/vendor.json that are not embedded,
// i.e. the binary was built without `npm ci && npm run assets`. Call it at start-up so
// such a build fails loudly instead of serving a console without its scripts.
func Verify() error {
	raw, err := files.ReadFile("vendor.json")
	if err != nil {
		return fmt.Errorf("static: %w", err)
	}
	var manifest struct {
		Files map[string]string `json:"files"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		return fmt.Errorf("static: vendor.json: %w", err)
	}
	var missing []string
	for dest := range manifest.Files {
		if !Exists("vendor/" + dest) {
			missing = append(missing, "vendor/"+dest)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return errors.New("static: assets missing from the build (run `npm ci && npm run assets`, then rebuild): " +
			strings.Join(missing, ", "))
	}
	return nil
}

// Handler serves the embedded files below Prefix. Hashed names (as produced by URL) are
// immutable and cached for a year; unhashed names are served too, for hand-written
// links and source maps, but must be revalidated. Anything else is 404.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	a, ok := byHashed[name]
	if ok {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else if a, ok = byName[name]; ok {
		h.Set("Cache-Control", "no-cache")
	} else {
		http.NotFound(w, r)
		return
	}
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", a.etag)
	// ServeContent answers If-None-Match (304), Range and HEAD; the zero modtime keeps it
	// from sending a meaningless Last-Modified for embedded files.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
}

// types pins the content types we serve, so they do not depend on the host's
// /etc/mime.types (which, for one, may call .js application/x-javascript).
var types = map[string]string{
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".json":  "application/json",
	".map":   "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".webp":  "image/webp",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
}

func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := types[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
