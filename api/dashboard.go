package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
)

// dashboardCSP allows the dashboard's own scripts, styles and API calls and
// nothing else: no CDN, no fonts, no frames.
const dashboardCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Dashboard serves the dashboard's production build (web/dist) from files:
// a file that exists is served as it is (hashed assets may be cached for a
// year); any other path without a file extension gets index.html, since the
// dashboard routes on the client (/stores/shop, /new). When the build is
// missing, every page explains how to make it.
func Dashboard(files fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains(strings.Split(r.URL.Path, "/"), "..") {
			// No page has a ".." in its path (the router does not clean
			// paths; http.ServeFileFS would answer 400 text/plain).
			notFound(w, r, "no such page")
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if name != "index.html" {
			if st, err := fs.Stat(files, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					h.Set("Cache-Control", "public, max-age=31536000, immutable")
				} else {
					h.Set("Cache-Control", "no-cache")
				}
				http.ServeFileFS(w, r, files, name)
				return
			}
			if path.Ext(name) != "" {
				notFound(w, r, "no such file in the dashboard")
				return
			}
		}
		// "/", "/index.html" and every client route: the page itself.
		if _, err := fs.Stat(files, "index.html"); errors.Is(err, fs.ErrNotExist) {
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, err := w.Write([]byte(dashboardMissing))
			unsent(r, err)
			return
		} else if err != nil {
			fail(w, r, newProblem(ProblemInternal, "the dashboard could not be read").because(fmt.Errorf("dashboard index.html: %w", err)))
			return
		}
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", dashboardCSP)
		http.ServeFileFS(w, r, files, "index.html")
	})
}

// DashboardDir is Dashboard over a directory; "" means no dashboard (nil).
func DashboardDir(dir string) http.Handler {
	if dir == "" {
		return nil
	}
	return Dashboard(os.DirFS(dir))
}

const dashboardMissing = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Store Platform</title></head>
<body><h1>The dashboard is not built</h1>
<p>Build it with <code>make web</code> (or <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code>),
or point <code>WEB_DIR</code> at a built dashboard. The API works without it: see <a href="/docs">/docs</a>.</p>
</body></html>
`
