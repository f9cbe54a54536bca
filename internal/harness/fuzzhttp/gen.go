package fuzzhttp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Token is a credential the generator may send.
type Token struct {
	// Label names the token in reports ("acme", "revoked-acme").
	Label string
	// Value is what follows "Bearer ".
	Value string
	// Tenant is whom the API must take the token for; "" when the API must
	// refuse it (a revoked token, say).
	Tenant string
	// Admin tokens see every tenant's stores.
	Admin bool
}

// Config is what a Generator draws from.
type Config struct {
	// Seed makes the run: Request(i) depends only on Seed and i.
	Seed uint64
	// Routes are the API's operations (ParseOpenAPI).
	Routes []Route
	// Tokens are the real tokens; the generator also makes up bad ones.
	Tokens []Token
	// Names are store names worth putting in paths and bodies: every
	// tenant's stores, so that tenants ask for each other's.
	Names []string
	// CreateNames are, per tenant, the only names that the create bodies
	// built from the schema for that tenant's tokens use: with the tenants'
	// store limit they bound the stores a run can make.
	CreateNames map[string][]string
	// MaxBody bounds the bodies (default 3 MiB).
	MaxBody int
}

// Request is one generated request.
type Request struct {
	// Index is the request's number in the run: with the seed, all it
	// takes to make it again.
	Index  int
	Method string
	// Target is the request target as sent: a percent-encoded path and,
	// maybe, "?" and a query.
	Target string
	Header http.Header
	Body   []byte
	// Chunked sends the body without a Content-Length.
	Chunked bool
	// Token is the label of the token sent ("" for none, "made-up" for a
	// token the generator invented).
	Token string
	// Tenant and Admin are whom the API must take the caller for; Tenant
	// is "" when it must not authenticate the request.
	Tenant string
	Admin  bool
	// Route is the operation the request was made from, "GET
	// /api/stores/{name}"; "" for made-up paths.
	Route string
	// MayCreate is set for a POST to the create route, whatever its body
	// or token: the requests that could make a store, which the runner
	// stops sending once its budget of stores is spent.
	MayCreate bool
	// Notes say how the request was made, for reports.
	Notes []string
}

// Path is the target without its query.
func (r Request) Path() string {
	p, _, _ := strings.Cut(r.Target, "?")
	return p
}

// Generator makes requests from a Config.
type Generator struct {
	cfg        Config
	createPath string
	patterns   map[string]*regexp.Regexp
	// allNames are Names and every CreateNames, sorted: map order must
	// not reach the requests.
	allNames []string
}

// NewGenerator checks cfg and fills in its defaults.
func NewGenerator(cfg Config) (*Generator, error) {
	if len(cfg.Routes) == 0 {
		return nil, errors.New("fuzzhttp: no routes")
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 3 << 20
	}
	if cfg.MaxBody < 1<<10 {
		return nil, fmt.Errorf("fuzzhttp: MaxBody %d is below 1 KiB", cfg.MaxBody)
	}
	g := &Generator{cfg: cfg, patterns: map[string]*regexp.Regexp{}}
	g.allNames = append(g.allNames, cfg.Names...)
	for _, ns := range cfg.CreateNames {
		g.allNames = append(g.allNames, ns...)
	}
	sort.Strings(g.allNames)
	g.allNames = slices.Compact(g.allNames)
	for _, rt := range cfg.Routes {
		if rt.Method == http.MethodPost && rt.Body != nil && len(rt.PathParams) == 0 && len(rt.Body.Required) > 0 && g.createPath == "" && strings.HasSuffix(rt.Template, "/stores") {
			g.createPath = rt.Template
		}
		for _, s := range append(schemasOf(rt.Body), paramSchemas(rt)...) {
			if s.Pattern == "" || g.patterns[s.Pattern] != nil {
				continue
			}
			re, err := regexp.Compile(s.Pattern)
			if err != nil {
				return nil, fmt.Errorf("fuzzhttp: %s %s: pattern %q: %w", rt.Method, rt.Template, s.Pattern, err)
			}
			g.patterns[s.Pattern] = re
		}
	}
	return g, nil
}

func schemasOf(s *Schema) []*Schema {
	if s == nil {
		return nil
	}
	out := []*Schema{s}
	for _, n := range s.PropertyNames() {
		out = append(out, schemasOf(s.Properties[n])...)
	}
	return append(out, schemasOf(s.Items)...)
}

func paramSchemas(rt Route) []*Schema {
	var out []*Schema
	for _, p := range append(append([]Param{}, rt.PathParams...), rt.Query...) {
		out = append(out, p.Schema)
	}
	return out
}

// Request makes request i of the run.
func (g *Generator) Request(i int) Request {
	b := &builder{g: g, rng: rand.New(rand.NewPCG(g.cfg.Seed, uint64(i))), req: Request{Index: i, Header: http.Header{}}}
	b.build()
	return b.req
}

// builder makes one request.
type builder struct {
	g   *Generator
	rng *rand.Rand
	req Request
}

func (b *builder) note(format string, args ...any) {
	b.req.Notes = append(b.req.Notes, fmt.Sprintf(format, args...))
}

func (b *builder) pct(p int) bool { return b.rng.IntN(100) < p }

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func (b *builder) build() {
	rt := pick(b.rng, b.g.cfg.Routes)
	b.req.Route = rt.Method + " " + rt.Template
	b.auth(rt)
	b.req.Method = b.method(rt)
	path, sameRoute := b.path(rt)
	if !sameRoute {
		b.req.Route = ""
	}
	b.req.Target = path
	if q := b.query(rt); q != "" {
		b.req.Target += "?" + q
	}
	b.headers()
	b.body(rt)
	b.req.MayCreate = b.req.Method == http.MethodPost && b.g.createPath != "" && b.req.Path() == b.g.createPath
}

// auth sends one of the real tokens most of the time, well or badly
// formed, and otherwise none or a made-up one.
func (b *builder) auth(rt Route) {
	h := b.req.Header
	p := b.rng.IntN(100)
	switch {
	case p < 70 && len(b.g.cfg.Tokens) > 0:
		t := pick(b.rng, b.g.cfg.Tokens)
		b.req.Token = t.Label
		value, valid := "Bearer "+t.Value, true
		switch q := b.rng.IntN(100); {
		case q < 3:
			value = "bearer " + t.Value
			valid = false
			b.note("auth:lowercase-scheme")
		case q < 6:
			value = "Bearer  " + t.Value + "  "
			b.note("auth:spaces")
		case q < 9:
			value = "Bearer " + t.Value[:len(t.Value)-1]
			valid = false
			b.note("auth:truncated")
		case q < 11:
			value = "Bearer " + t.Value + " " + t.Value
			valid = false
			b.note("auth:twice")
		case q < 13:
			value = "Basic " + t.Value
			valid = false
			b.note("auth:basic")
		}
		h.Set("Authorization", value)
		if valid {
			b.req.Tenant, b.req.Admin = t.Tenant, t.Admin && t.Tenant != ""
		}
	case p < 82:
		b.note("auth:none")
	default:
		b.req.Token = "made-up"
		made := []string{
			"Bearer sp_" + b.word(32),
			"Bearer " + strings.Repeat("A", 8<<10+b.rng.IntN(8<<10)),
			"Bearer " + string([]byte{0x80, 0xff, 0xfe, 'x', 0xc0, 0xae}),
			`Bearer {"$ne":null}`,
			"Bearer ' OR '1'='1",
			"Bearer ../../etc/passwd",
			"Bearer",
			"Bearer ",
			"Bearer null",
			"Token " + b.word(20),
			b.word(40),
		}
		h.Set("Authorization", pick(b.rng, made))
		if len(b.g.cfg.Tokens) > 0 && b.pct(20) {
			// A second header: the API must read one, not merge them.
			h.Add("Authorization", "Bearer "+pick(b.rng, b.g.cfg.Tokens).Value)
		}
		b.note("auth:made-up")
	}
	if rt.Public {
		b.req.Tenant, b.req.Admin = "", false
	}
}

var (
	commonMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	oddMethods    = []string{http.MethodHead, http.MethodOptions, http.MethodTrace, "PROPFIND", "get", "Post", "FUZZ", "M-SEARCH", "PURGE"}
)

func (b *builder) method(rt Route) string {
	switch p := b.rng.IntN(100); {
	case p < 75:
		return rt.Method
	case p < 90:
		m := pick(b.rng, commonMethods)
		if m != rt.Method {
			b.note("method:other")
		}
		return m
	default:
		b.note("method:odd")
		return pick(b.rng, oddMethods)
	}
}

// path fills the route's template; sameRoute is false when the path is
// not the route's (a made-up or malformed path). A garbage parameter keeps
// the route.
func (b *builder) path(rt Route) (path string, sameRoute bool) {
	switch p := b.rng.IntN(100); {
	case p < 50:
		return b.fill(rt, -1), true
	case p < 75:
		if len(rt.PathParams) == 0 {
			b.note("path:extra-segment")
			return rt.Template + "/" + b.garbageSegment(), false
		}
		bad := b.rng.IntN(len(rt.PathParams))
		return b.fill(rt, bad), true
	case p < 88:
		return b.unknownAPIPath(rt), false
	default:
		return b.oddForm(b.fill(rt, -1)), false
	}
}

// fill replaces the template's parameters with plausible values, except
// parameter bad (-1 for none), which gets a garbage segment.
func (b *builder) fill(rt Route, bad int) string {
	out := rt.Template
	for i, p := range rt.PathParams {
		v := ""
		if i == bad {
			v = b.garbageSegment()
		} else {
			v = encodeRaw(b.plausible(p.Schema), false)
		}
		out = strings.Replace(out, "{"+p.Name+"}", v, 1)
	}
	return out
}

// plausible returns a value a client could mean: a known store name
// matching the schema's pattern, or a fresh string that matches it.
func (b *builder) plausible(s *Schema) string {
	re := b.g.patterns[s.Pattern]
	var names []string
	for _, n := range b.g.allNames {
		if re == nil || re.MatchString(n) {
			names = append(names, n)
		}
	}
	if len(names) > 0 && b.pct(70) {
		return pick(b.rng, names)
	}
	for range 20 {
		w := b.word(3 + b.rng.IntN(20))
		if re == nil || re.MatchString(w) {
			return w
		}
	}
	return b.word(8)
}

const wordChars = "abcdefghijklmnopqrstuvwxyz0123456789-"

// word is a lowercase DNS-label-like word starting with a letter.
func (b *builder) word(n int) string {
	if n < 1 {
		n = 1
	}
	w := make([]byte, n)
	for i := range w {
		w[i] = wordChars[b.rng.IntN(len(wordChars))]
	}
	w[0] = 'a' + byte(b.rng.IntN(26))
	if w[n-1] == '-' {
		w[n-1] = 'x'
	}
	return string(w)
}

// garbageSegments are raw (already percent-encoded) path segments:
// traversal in every encoding, broken and overlong UTF-8, control bytes,
// reserved names, injection strings, and names that are almost valid.
var garbageSegments = []string{
	"..", ".", "%2e%2e", "%2E%2E", "%2e", ".%2e", "%2e.", "..%2F..%2Fetc%2Fpasswd", "..%2f..%2f..%2fetc%2fpasswd",
	"%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%5C..%5Cwindows%5Cwin.ini", "%252e%252e%252f", "%c0%ae%c0%ae", "%c0%af",
	"%e0%80%ae", "%ff%fe%fd", "%ed%a0%80", "%80", "%00", "a%00b", "%0d%0aX-Injected:%201", "%0a", "%20", "%09",
	"%2F", "a%2Fb", "%3F", "%23", "%25", "%3B", ";", ",", "~", "*", "@", ":", "$", "!", "'", "(x)", "%7Bname%7D",
	"%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E", "kube-system", "default", "api", "admin", "temporal", "Acme-Shop",
	"-x-", "a", "ab", "a--b", "%F0%9F%92%A5", "%E2%80%AE", "%EF%BB%BF", "%C3%A9t%C3%A9", "null", "undefined", "0",
	"-1", "1e400", "99999999999999999999999999", "%24ne", "%7B%22%24ne%22%3Anull%7D", "'%20OR%20'1'%3D'1",
	"%2e%2e%2f%2e%2e%2fapi%2fme", "..%2Fme", "%2e%2e%2Fevents",
}

// garbageSegment is one path segment that no route should take for a
// valid parameter, percent-encoded so that it survives the trip as it is.
func (b *builder) garbageSegment() string {
	switch p := b.rng.IntN(100); {
	case p < 55:
		s := pick(b.rng, garbageSegments)
		b.note("path:%s", s)
		return s
	case p < 65:
		n := pick(b.rng, []int{41, 64, 253, 1000, 8000, 60000})
		b.note("path:long-%d", n)
		return strings.Repeat("a", n)
	case p < 80:
		raw := make([]byte, 1+b.rng.IntN(32))
		for i := range raw {
			raw[i] = byte(b.rng.IntN(256))
		}
		b.note("path:random-bytes")
		return encodeRaw(string(raw), false)
	default:
		// A name the caller may know, walking to another: a tenant's
		// store, then "..", then another tenant's.
		names := append([]string{"x"}, b.g.cfg.Names...)
		s := pick(b.rng, names) + pick(b.rng, []string{"%2F..%2F", "%2f%2e%2e%2f", "%5C..%5C", "%00", "%2F", "/../", "/./"}) + pick(b.rng, names)
		b.note("path:walk")
		return s
	}
}

// unknownAPIPath is a path under /api that no route has.
func (b *builder) unknownAPIPath(rt Route) string {
	segs := strings.Split(strings.TrimPrefix(b.fill(rt, -1), "/"), "/")
	b.note("path:unknown")
	switch p := b.rng.IntN(100); {
	case p < 30:
		return "/api/" + b.word(3+b.rng.IntN(10))
	case p < 50:
		return "/" + strings.Join(segs, "/") + "/" + b.word(2+b.rng.IntN(10))
	case p < 65:
		segs[len(segs)-1] = b.word(2 + b.rng.IntN(12))
		if segs[0] != "api" {
			segs = append([]string{"api"}, segs...)
		}
		return "/" + strings.Join(segs, "/")
	case p < 75:
		return pick(b.rng, []string{"/api", "/api/", "/api/v1/stores", "/api/v2", "/api/stores/a/b/c/d", "/api/..", "/api/%2e%2e", "/api/%2e%2e/health", "/api/..%2F..%2Fetc%2Fpasswd", "/api/stores%2F..%2Fme", "/api/%2Fstores"})
	default:
		return "/api/" + b.garbageSegment()
	}
}

// oddForm changes a valid path in one of the ways servers tend to treat
// as the same path, or nearly.
func (b *builder) oddForm(path string) string {
	i := strings.LastIndex(path, "/")
	switch p := b.rng.IntN(8); p {
	case 0:
		b.note("path:trailing-slash")
		return path + "/"
	case 1:
		b.note("path:double-slash")
		if i == 0 {
			return path + "//" // a leading "//" would be read as a host
		}
		return path[:i] + "/" + path[i:]
	case 2:
		b.note("path:dot-segment")
		return path[:i] + "/." + path[i:]
	case 3:
		b.note("path:dotdot-segment")
		return path[:i] + "/" + b.word(4) + "/.." + path[i:]
	case 4:
		if i <= 0 {
			return path + "%2F"
		}
		b.note("path:encoded-slash")
		return path[:i] + "%2F" + path[i+1:]
	case 5:
		b.note("path:upper-case")
		return strings.ToUpper(path)
	case 6:
		b.note("path:matrix-param")
		return path + ";jsessionid=" + b.word(8)
	default:
		b.note("path:encoded-dots")
		return path[:i] + "/%2e" + path[i:]
	}
}

// encodeRaw percent-encodes every byte of s outside the characters a path
// (or, with query, a query) may hold, and keeps "%XX" escapes as they are,
// so that Go's client sends the target byte for byte.
func encodeRaw(s string, query bool) string {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out.WriteByte(c)
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0:
			out.WriteByte(c)
		case query && c == '?':
			out.WriteByte(c)
		default:
			fmt.Fprintf(&out, "%%%02X", c)
		}
	}
	return out.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// garbageValues are query and header values that no parameter takes.
var garbageValues = []string{
	"", "-1", "0", "1e400", "99999999999999999999999999", "-9223372036854775809", "1.5", "NaN", "Infinity", "0x10",
	"null", "true", "[]", "{}", `{"$ne":null}`, "%00", "%ff%fe", "%c0%ae", "..%2F..%2Fetc%2Fpasswd", "'%20OR%201%3D1",
	"%E2%80%AE", "%F0%9F%92%A5", "a%26b%3Dc", "%0d%0aSet-Cookie:%20x=1",
}

var extraQueryKeys = []string{"limit", "cursor", "status", "engine", "owner", "tenant", "lastEventId", "force", "debug", "admin", "name", "_method", "$where"}

// query adds parameters: the route's own with good or bad values, unknown
// ones, repeated ones.
func (b *builder) query(rt Route) string {
	if !b.pct(35) {
		return ""
	}
	var parts []string
	for _, p := range rt.Query {
		if b.pct(50) {
			parts = append(parts, encodeRaw(p.Name, true)+"="+b.queryValue(p.Schema))
		}
	}
	for range b.rng.IntN(3) {
		parts = append(parts, pick(b.rng, extraQueryKeys)+"="+b.queryValue(&Schema{}))
	}
	if b.pct(10) && len(parts) > 0 {
		parts = append(parts, parts[0])
	}
	if b.pct(5) {
		parts = append(parts, "x="+strings.Repeat("q", 4000+b.rng.IntN(30000)))
	}
	if len(parts) > 0 {
		b.note("query")
	}
	return strings.Join(parts, "&")
}

func (b *builder) queryValue(s *Schema) string {
	switch p := b.rng.IntN(100); {
	case p < 25 && len(s.Enum) > 0:
		return encodeRaw(fmt.Sprint(pick(b.rng, s.Enum)), true)
	case p < 40 && (s.Is("integer") || s.Is("number")):
		lo, hi := 0, 1000
		if s.Minimum != nil {
			lo = int(*s.Minimum)
		}
		if s.Maximum != nil {
			hi = int(*s.Maximum)
		}
		return strconv.Itoa(lo + b.rng.IntN(hi-lo+1))
	case p < 50:
		return b.word(1 + b.rng.IntN(30))
	default:
		return encodeRaw(pick(b.rng, garbageValues), true)
	}
}

// headers adds the headers besides Authorization and Content-Type.
func (b *builder) headers() {
	h := b.req.Header
	if b.pct(30) {
		h.Set("Accept", pick(b.rng, []string{"application/json", "application/problem+json", "text/html", "*/*", "text/event-stream", "application/xml", "", "garbage/;;", "application/json;q=0"}))
	}
	if b.pct(15) {
		h.Set("Last-Event-ID", pick(b.rng, []string{"0", "-1", "1e400", "99999999999999999999", "9223372036854775807", "abc", "", "1700000000000", " 1", "0x10"}))
		b.note("header:last-event-id")
	}
	if b.pct(8) {
		h.Set("Content-Encoding", pick(b.rng, []string{"gzip", "br", "deflate", "identity", "x-garbage"}))
		b.note("header:content-encoding")
	}
	if b.pct(10) {
		k := pick(b.rng, []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override", "X-Real-IP", "Forwarded"})
		h.Set(k, pick(b.rng, []string{"127.0.0.1", "/api/stores", "DELETE", "evil.example.com", "https", "for=unknown", "::1, 10.0.0.1"}))
		b.note("header:%s", k)
	}
	if b.pct(5) {
		h.Set("Origin", "https://evil.example.com")
		h.Set("Cookie", "session="+b.word(16))
	}
	if b.pct(5) {
		h.Set("Range", "bytes=0-1,5-")
		h.Set("If-None-Match", "*")
	}
	if b.pct(5) {
		h.Set("X-Request-ID", pick(b.rng, []string{"", "x", strings.Repeat("r", 5000), "../../etc", string([]byte{0xff, 0xfe})}))
		b.note("header:x-request-id")
	}
	if b.pct(2) {
		h.Set("X-Fuzz-Large", strings.Repeat("h", 64<<10+b.rng.IntN(400<<10)))
		b.note("header:large")
	}
}
