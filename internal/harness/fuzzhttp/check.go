package fuzzhttp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kinds of finding: each breaks a rule that holds whatever the request.
const (
	// KindServerError is a 5xx answer.
	KindServerError = "5xx"
	// KindNoAnswer is a request that got no HTTP answer: the connection
	// was reset or closed, or the answer did not come in time (a panic in
	// a handler ends its connection this way).
	KindNoAnswer = "no answer"
	// KindRedirect is a 3xx answer to a request for a path under /api:
	// an API client does not follow redirects, and a cleaned path may
	// name another resource than the one asked for.
	KindRedirect = "3xx under /api"
	// KindNotProblem is a 4xx answer whose body is not an
	// application/problem+json object with the answer's status.
	KindNotProblem = "4xx not problem+json"
	// KindCrossTenant is an answer that shows a store of another tenant,
	// or the other tenant's name as an owner, which the request did not
	// name itself. For a caller the API must not authenticate (no token, a
	// revoked or malformed one) every tenant is another tenant.
	KindCrossTenant = "cross-tenant data"
)

// Response is what the runner got for a request.
type Response struct {
	Status int
	Header http.Header
	// Body is the body read, up to the runner's limit; for an event
	// stream, what came in the time the runner listened.
	Body []byte
	// Err is set when no answer came (Status is then 0).
	Err error
}

// Finding is a broken rule, with what it takes to reproduce it.
type Finding struct {
	Kind string
	// Request is the request's description (Describe).
	Request     string
	Index       int
	Route       string
	Method      string
	Target      string
	Notes       []string
	Status      int
	ContentType string
	Location    string
	// Detail says what was wrong; Excerpt is the start of the body.
	Detail  string
	Excerpt string
}

// Path is the finding's target without its query.
func (f Finding) Path() string {
	p, _, _ := strings.Cut(f.Target, "?")
	return p
}

// Owners says which tenant owns which store.
type Owners map[string]string

// Check applies every rule to one exchange. owners are the stores whose
// names must not reach other tenants; admin callers see everything.
func Check(req Request, resp Response, owners Owners) []Finding {
	var out []Finding
	add := func(kind, detail string) {
		out = append(out, newFinding(kind, req, resp, detail))
	}
	if resp.Err != nil {
		add(KindNoAnswer, resp.Err.Error())
		return out
	}
	ct := resp.Header.Get("Content-Type")
	switch {
	case resp.Status >= 500:
		add(KindServerError, "")
	case resp.Status >= 300 && resp.Status < 400 && resp.Status != http.StatusNotModified && IsAPIPath(req.Path()):
		add(KindRedirect, "")
	case resp.Status >= 400:
		if why := notProblem(req.Method, resp.Status, ct, resp.Body); why != "" {
			add(KindNotProblem, why)
		}
	}
	if why := crossTenant(req, resp, owners); why != "" {
		add(KindCrossTenant, why)
	}
	return out
}

// notProblem says why a 4xx answer is not a problem document ("" if it is).
func notProblem(method string, status int, ct string, body []byte) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/problem+json" {
		return "not application/problem+json"
	}
	if method == http.MethodHead {
		return ""
	}
	var p struct {
		Type   *string `json:"type"`
		Title  *string `json:"title"`
		Status *int    `json:"status"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return "the body is not a JSON object: " + err.Error()
	}
	switch {
	case p.Type == nil || *p.Type == "":
		return "no type"
	case p.Title == nil || *p.Title == "":
		return "no title"
	case p.Status == nil || *p.Status != status:
		return fmt.Sprintf("status %v in the body, %d in the answer", deref(p.Status), status)
	}
	return ""
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// crossTenant says what of another tenant the answer shows ("" if
// nothing). A store name the request itself carries may come back in an
// error ("no store named x"); in a 2xx answer it may not.
func crossTenant(req Request, resp Response, owners Owners) string {
	if req.Admin || len(resp.Body) == 0 {
		return ""
	}
	who := req.Tenant
	if who == "" {
		who = "a caller with no valid token"
	}
	mentioned := requestText(req)
	var seen []string
	others := map[string]bool{}
	for name, owner := range owners {
		if owner == req.Tenant {
			continue
		}
		others[owner] = true
		if !bytes.Contains(resp.Body, []byte(name)) {
			continue
		}
		if resp.Status < 300 || !strings.Contains(mentioned, name) {
			seen = append(seen, name+" (of "+owner+")")
		}
	}
	for owner := range others {
		if !bytes.Contains(resp.Body, []byte(owner)) {
			continue
		}
		re := regexp.MustCompile(`"(owner|tenant)"\s*:\s*"` + regexp.QuoteMeta(owner) + `"`)
		if re.Match(resp.Body) {
			seen = append(seen, "owner "+owner)
		}
	}
	sort.Strings(seen)
	if len(seen) == 0 {
		return ""
	}
	return "shows " + strings.Join(seen, ", ") + " to " + who
}

// requestText is everything of the request a server could echo: the
// target as sent and decoded, the body, and the header values.
func requestText(req Request) string {
	var sb strings.Builder
	sb.WriteString(req.Target)
	sb.WriteByte('\n')
	if u, err := url.PathUnescape(req.Target); err == nil {
		sb.WriteString(u)
		sb.WriteByte('\n')
	}
	if u, err := url.QueryUnescape(req.Target); err == nil {
		sb.WriteString(u)
		sb.WriteByte('\n')
	}
	sb.Write(req.Body)
	for _, vs := range req.Header {
		for _, v := range vs {
			sb.WriteString(v)
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

func newFinding(kind string, req Request, resp Response, detail string) Finding {
	f := Finding{Kind: kind, Request: req.Describe(), Index: req.Index, Route: req.Route, Method: req.Method,
		Target: req.Target, Notes: req.Notes, Status: resp.Status, Detail: detail}
	if resp.Header != nil {
		f.ContentType, f.Location = resp.Header.Get("Content-Type"), resp.Header.Get("Location")
	}
	f.Excerpt = excerpt(resp.Body, 300)
	return f
}

// Key groups findings that are likely one bug: the kind, the route (all
// made-up paths together) and the status.
func (f Finding) Key() string {
	where := f.Route
	if where == "" {
		where = "(made-up or malformed path)"
	}
	return fmt.Sprintf("%s | %s | %d", f.Kind, where, f.Status)
}

// excerpt is the start of b, printable.
func excerpt(b []byte, n int) string {
	if len(b) > n {
		return fmt.Sprintf("%q... (%d bytes)", b[:n], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// Describe is the request in one paragraph: enough to send it again by
// hand, with the body cut short (the seed and index make it whole).
func (r Request) Describe() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "#%d %s %s", r.Index, r.Method, excerptString(r.Target, 400))
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range r.Header[k] {
			if k == "Authorization" {
				v = redactToken(v, r.Token)
			}
			fmt.Fprintf(&sb, "\n    %s: %s", k, excerptString(v, 120))
		}
	}
	if r.Body != nil {
		fmt.Fprintf(&sb, "\n    body (%d bytes%s): %s", len(r.Body), map[bool]string{true: ", chunked"}[r.Chunked], excerpt(r.Body, 200))
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(&sb, "\n    made by: %s", strings.Join(r.Notes, " "))
	}
	return sb.String()
}

// realToken is the shape of the platform's tokens.
var realToken = regexp.MustCompile(`^\s*sp_[A-Za-z0-9_-]{43}`)

// redactToken keeps real tokens out of reports: the label says whose the
// token was (a made-up token's second header may be a real one).
func redactToken(v, label string) string {
	scheme, rest, ok := strings.Cut(v, " ")
	if !ok || !realToken.MatchString(rest) {
		return excerptString(v, 80)
	}
	out := scheme + " " + strings.TrimSpace(rest)[:6] + "…"
	if label != "" && label != "made-up" {
		out += " (token " + label + ")"
	}
	return out
}

// excerptString is s cut to n bytes, quoted when it is cut or holds
// anything but printable UTF-8.
func excerptString(s string, n int) string {
	if len(s) > n {
		return fmt.Sprintf("%q... (%d bytes)", s[:n], len(s))
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}
