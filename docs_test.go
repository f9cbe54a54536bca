package storeplatform_test

// The documentation's commands and links, checked against the code: a
// `make` target, a storeplatform subcommand or flag, a platform setting, a
// chart value, an API path or a metric that a page names must exist, and a
// shell variable must be set on the page before it is used. The pages are
// read as a user would copy them: every ```sh, ```bash, ```shell and
// ```console block.

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"sigs.k8s.io/yaml"

	"github.com/storeplatform/storeplatform/internal/config"
)

// docPages are the pages whose shell blocks and links are checked: the
// README, the contributors' and changelog pages, and everything under docs/.
func docPages(t *testing.T) []string {
	t.Helper()
	pages := []string{"README.md", "CONTRIBUTING.md", "CHANGELOG.md"}
	err := filepath.WalkDir("docs", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			pages = append(pages, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDocsShellBlocks(t *testing.T) {
	w := loadWorld(t)
	for _, page := range docPages(t) {
		t.Run(page, func(t *testing.T) {
			for _, problem := range checkShellBlocks(w, readFile(t, page)) {
				t.Error(problem)
			}
		})
	}
}

// TestDocsTutorialAndREADMEHaveShellBlocks keeps the check above from
// passing on pages it no longer reads: both pages hold commands.
func TestDocsTutorialAndREADMEHaveShellBlocks(t *testing.T) {
	for _, page := range []string{"README.md", "docs/tutorial.md"} {
		if n := len(shellBlocks(readFile(t, page))); n == 0 {
			t.Errorf("%s has no shell block", page)
		}
	}
}

// TestDocsCheckerCatchesMistakes: each snippet holds one mistake the
// checker must report, and the good ones none.
func TestDocsCheckerCatchesMistakes(t *testing.T) {
	w := loadWorld(t)
	for _, tt := range []struct {
		name, block, want string // want "": no problem
	}{
		{"a make target", "make dev\nmake test-short lint", ""},
		{"a made-up make target", "make dev frobnicate", `make target "frobnicate"`},
		{"make variables are no targets", "make chaos CHAOS_SEED=42", ""},
		{"a storeplatform-dev flag", "bin/storeplatform-dev --real-node -temporal-ui-port -1", ""},
		{"a made-up storeplatform-dev flag", "./bin/storeplatform-dev -frobnicate", `flag -frobnicate`},
		{"a token command", "bin/storeplatform token create -tenant acme -role admin -name x", ""},
		{"a made-up token flag", "bin/storeplatform token create -tenant acme -owner x", `flag -owner`},
		{"a made-up subcommand", "storeplatform serve", `subcommand "serve"`},
		{"a made-up token subcommand", "storeplatform token rotate", `token subcommand "rotate"`},
		{"a setting as a flag", "bin/storeplatform api -listen :8080 -store-limit 3", ""},
		{"storeplatform in a pod", "kubectl exec deploy/x -- storeplatform token create -tenant a -frob 1", `flag -frob`},
		{"storeplatform in a substitution", "T=$(bin/storeplatform token create -nope x)", `flag -nope`},
		{"an undefined variable", "curl -s $NOPE/api/stores", `$NOPE`},
		{"a variable set before", "API=http://127.0.0.1:8080\ncurl -s $API/api/stores", ""},
		{"a variable of a for loop", "for a in x y; do\n  echo \"$a\"\ndone", ""},
		{"a variable in single quotes is text", "echo '$NOPE'", ""},
		{"a variable in a comment is text", "echo ok   # $NOPE", ""},
		{"a well-known variable", "KUBECONFIG=$HOME/.kube/config make dev", ""},
		{"a made-up setting", "MONGODB_URL=mongodb://x bin/storeplatform api", `MONGODB_URL`},
		{"a made-up exported setting", "export TEMPORAL_HOST=x", `TEMPORAL_HOST`},
		{"a shell variable that is no setting", "TEMPORAL_HOSTPORT=x", ""},
		{"a compose variable", "KUBECONFIG_FILE=$HOME/.kube/config docker compose up --build", ""},
		{"a chart that exists", "helm install sp charts/store-platform --set image.tag=1 --set-string 'api.ingress.annotations.a\\.b/c=d'", ""},
		{"a chart that does not", "bin/helm install sp charts/nope", `charts/nope`},
		{"a made-up chart value", "helm upgrade sp charts/store-platform --set image.tga=1", `image.tga`},
		{"a made-up value after a comma", "helm upgrade sp charts/store-platform --set image.tag=1,api.nope=2", `api.nope`},
		{"a value of another chart is not checked", "helm install cm jetstack/cert-manager --set crds.enabled=true", ""},
		{"an API path", "API=x\ncurl -s -X POST $API/api/stores/shop/rollback -d '{}'", ""},
		{"a made-up API path", "API=x\ncurl -s $API/api/shops", `GET /api/shops`},
		{"a wrong method", "API=x\ncurl -s -X PUT $API/api/stores/shop", `PUT /api/stores/shop`},
		{"a redirection is no argument", "bin/storeplatform token list > tokens.txt 2>&1", ""},
		{"a console block's output is not run", "$ make dev\nmake frobnicate", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lang := "sh"
			if strings.HasPrefix(tt.block, "$ ") {
				lang = "console"
			}
			problems := checkShellBlocks(w, "# page\n\n```"+lang+"\n"+tt.block+"\n```\n")
			switch {
			case tt.want == "" && len(problems) > 0:
				t.Errorf("problems in a good snippet: %q", problems)
			case tt.want != "" && !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }):
				t.Errorf("problems %q, want one naming %s", problems, tt.want)
			}
		})
	}
}

// TestDocsIndexLinksEveryPage: docs/README.md links every page under docs/.
func TestDocsIndexLinksEveryPage(t *testing.T) {
	linked := map[string]bool{}
	for _, l := range mdLinks(readFile(t, "docs/README.md")) {
		target, _, _ := strings.Cut(l, "#")
		linked[filepath.Clean(filepath.Join("docs", target))] = true
	}
	for _, page := range docPages(t) {
		if strings.HasPrefix(page, "docs"+string(filepath.Separator)) && page != filepath.Join("docs", "README.md") && !linked[page] {
			t.Errorf("docs/README.md does not link %s", page)
		}
	}
	for _, other := range []string{"CONTRIBUTING.md", "CHANGELOG.md", "charts/store/README.md", "charts/store-platform/README.md"} {
		if !linked[filepath.Clean(other)] {
			t.Errorf("docs/README.md does not link %s", other)
		}
	}
}

// TestDocsLinksResolve: every relative link of the pages points at a file
// that exists, and an anchor into a page at one of its headings.
func TestDocsLinksResolve(t *testing.T) {
	slugs := map[string]map[string]bool{}
	slugsOf := func(page string) map[string]bool {
		if s, ok := slugs[page]; ok {
			return s
		}
		s := headingSlugs(readFile(t, page))
		slugs[page] = s
		return s
	}
	for _, page := range docPages(t) {
		for _, l := range mdLinks(readFile(t, page)) {
			if strings.Contains(l, "://") || strings.HasPrefix(l, "mailto:") {
				continue
			}
			target, anchor, _ := strings.Cut(l, "#")
			path := page
			if target != "" {
				path = filepath.Clean(filepath.Join(filepath.Dir(page), target))
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s links %s, which does not exist", page, l)
					continue
				}
			}
			if anchor != "" && strings.HasSuffix(path, ".md") && !slugsOf(path)[anchor] {
				t.Errorf("%s links %s: %s has no heading #%s", page, l, path, anchor)
			}
		}
	}
}

// TestDocsRepositoryFiles: the files a user looks for at the top.
func TestDocsRepositoryFiles(t *testing.T) {
	license := readFile(t, "LICENSE")
	if !strings.HasPrefix(license, "MIT License") || !strings.Contains(license, "Copyright (c) 2026 The Store Platform authors") {
		t.Error("LICENSE is not the MIT license of the Store Platform authors")
	}
	for _, f := range []string{"CONTRIBUTING.md", "CHANGELOG.md"} {
		if strings.TrimSpace(readFile(t, f)) == "" {
			t.Errorf("%s is empty", f)
		}
	}
	changelog := readFile(t, "CHANGELOG.md")
	for _, want := range []string{"## [Unreleased]", "## Store chart"} {
		if !strings.Contains(changelog, want) {
			t.Errorf("CHANGELOG.md has no %q", want)
		}
	}
	chart := readFile(t, "charts/store/Chart.yaml")
	if m := regexp.MustCompile(`(?m)^version: (\S+)`).FindStringSubmatch(chart); m == nil || !strings.Contains(changelog, "### ["+m[1]+"]") {
		t.Errorf("CHANGELOG.md has no section of the store chart's current version")
	}
}

// TestREADMEIsALandingPage: short, with a screenshot, the early warning
// about local store URLs, a configuration table and the way to the rest.
func TestREADMEIsALandingPage(t *testing.T) {
	readme := readFile(t, "README.md")
	if n := strings.Count(readme, "\n"); n > 180 {
		t.Errorf("README.md has %d lines, want at most 180", n)
	}
	for _, want := range []string{"](docs/screenshots/", "--real-node", "| variable |", "](docs/configuration.md)", "](docs/README.md)", "](docs/tutorial.md)", "](docs/deploy.md)"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md has no %q", want)
		}
	}
	if warn, dev := strings.Index(readme, "serves nothing"), strings.Index(readme, "## Deploy"); warn < 0 || warn > dev {
		t.Error("README.md does not warn, before its deployment section, that local store URLs serve nothing")
	}
}

// TestDocsAlertRulesUseServedMetrics: the metric names in the pages'
// Prometheus expressions are series the code serves.
func TestDocsAlertRulesUseServedMetrics(t *testing.T) {
	served := servedMetrics(t)
	exprs := 0
	for _, page := range docPages(t) {
		for _, b := range fencedBlocks(readFile(t, page)) {
			if b.lang != "yaml" {
				continue
			}
			for _, line := range strings.Split(b.body, "\n") {
				if !strings.Contains(line, "expr:") && !strings.Contains(line, "storeplatform_") && !strings.Contains(line, "temporal_") {
					continue
				}
				exprs++
				for _, m := range metricRE.FindAllString(line, -1) {
					name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_count"), "_sum")
					if !served[name] {
						t.Errorf("%s: %s is not a metric the code serves", page, m)
					}
				}
			}
		}
	}
	if exprs == 0 {
		t.Error("no Prometheus expression found in the docs")
	}
}

var metricRE = regexp.MustCompile(`\b(storeplatform|temporal)_[a-z_]+\b`)

// servedMetrics are the names the api and the worker register, and the
// Temporal SDK's, read from the SDK's module.
func servedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	served := map[string]bool{}
	quoted := regexp.MustCompile(`"(storeplatform_[a-z_]+)"`)
	for _, f := range []string{"api/metrics.go", "internal/metrics/metrics.go"} {
		for _, m := range quoted.FindAllStringSubmatch(readFile(t, f), -1) {
			served[m[1]] = true
		}
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/sdk").Output()
	if err != nil {
		t.Fatalf("go list -m go.temporal.io/sdk: %v", err)
	}
	constants := readFile(t, filepath.Join(strings.TrimSpace(string(out)), "internal", "common", "metrics", "constants.go"))
	for _, m := range regexp.MustCompile(`TemporalMetricsPrefix \+ "([a-z_]+)"`).FindAllStringSubmatch(constants, -1) {
		served["temporal_"+m[1]] = true
	}
	if len(served) < 10 {
		t.Fatalf("found only %d metric names", len(served))
	}
	return served
}

// world is what the pages may name: the Makefile's targets, the commands'
// subcommands and flags, the settings, the charts' values and the API's
// paths.
type world struct {
	targets     map[string]bool
	settings    map[string]bool
	prefixes    map[string]bool // first words of the settings' names (TEMPORAL, STORE, ...)
	otherEnv    map[string]bool // variables that are no settings: docker-compose.yaml's
	subcommands map[string]map[string]bool
	tokenSubs   map[string]bool
	tokenFlags  map[string]bool // flag name -> bool flag
	devFlags    map[string]bool
	apiPaths    []apiPath
}

type apiPath struct {
	method string
	re     *regexp.Regexp
}

func loadWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		targets: map[string]bool{}, settings: map[string]bool{}, prefixes: map[string]bool{}, otherEnv: map[string]bool{},
		subcommands: map[string]map[string]bool{},
	}
	for _, m := range regexp.MustCompile(`(?m)^([a-zA-Z0-9_-]+):.*##`).FindAllStringSubmatch(readFile(t, "Makefile"), -1) {
		w.targets[m[1]] = true
	}
	configFlags := map[string]bool{}
	for _, s := range config.Settings() {
		w.settings[s.Env] = true
		first, _, _ := strings.Cut(s.Env, "_")
		w.prefixes[first] = true
		configFlags[s.Flag] = false
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)`).FindAllStringSubmatch(readFile(t, "docker-compose.yaml"), -1) {
		w.otherEnv[m[1]] = true
	}
	// storeplatform: api and worker take the settings' flags and serve.go's,
	// token its own; storeplatform-dev its own.
	cmd := parseGoFiles(t, "cmd/storeplatform/main.go", "cmd/storeplatform/serve.go", "cmd/storeplatform/token.go")
	serveFlags := merge(configFlags, goFlags(cmd["cmd/storeplatform/serve.go"]))
	w.tokenFlags = merge(configFlags, goFlags(cmd["cmd/storeplatform/token.go"]))
	for _, sub := range switchCases(cmd["cmd/storeplatform/main.go"], "run", "cmd") {
		w.subcommands[sub] = serveFlags
	}
	w.subcommands["token"] = w.tokenFlags
	w.tokenSubs = map[string]bool{}
	for _, sub := range switchCases(cmd["cmd/storeplatform/token.go"], "runToken", "sub") {
		w.tokenSubs[sub] = true
	}
	w.devFlags = goFlags(parseGoFiles(t, "cmd/storeplatform-dev/main.go")["cmd/storeplatform-dev/main.go"])
	if len(w.targets) < 10 || len(w.subcommands) < 3 || len(w.tokenSubs) < 3 || len(w.devFlags) < 5 {
		t.Fatalf("read too little: %d targets, subcommands %v, token subcommands %v, %d dev flags", len(w.targets), w.subcommands, w.tokenSubs, len(w.devFlags))
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(readFile(t, "api/openapi.json")), &spec); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\\\{[^}]*\\\}`)
	for p, ops := range spec.Paths {
		re := regexp.MustCompile("^" + param.ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$")
		for m := range ops {
			w.apiPaths = append(w.apiPaths, apiPath{method: strings.ToUpper(m), re: re})
		}
	}
	return w
}

func merge(a, b map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func parseGoFiles(t *testing.T, paths ...string) map[string]*ast.File {
	t.Helper()
	out := map[string]*ast.File{}
	fset := token.NewFileSet()
	for _, p := range paths {
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = f
	}
	return out
}

// goFlags are the flags a file defines on a FlagSet named fs: name -> bool
// flag.
func goFlags(f *ast.File) map[string]bool {
	flags := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "fs" {
			return true
		}
		kind, isVar := strings.CutSuffix(sel.Sel.Name, "Var")
		switch kind {
		case "String", "Int", "Int64", "Uint", "Bool", "Duration", "Float64":
		default:
			return true
		}
		i := 0
		if isVar {
			i = 1
		}
		if i < len(call.Args) {
			if lit, ok := call.Args[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if name, err := strconv.Unquote(lit.Value); err == nil {
					flags[name] = kind == "Bool"
				}
			}
		}
		return true
	})
	return flags
}

// switchCases are the string cases of the switch on variable tag in the
// function fn.
func switchCases(f *ast.File, fn, tag string) []string {
	var cases []string
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != fn {
			continue
		}
		ast.Inspect(fd, func(n ast.Node) bool {
			sw, ok := n.(*ast.SwitchStmt)
			if !ok {
				return true
			}
			if id, ok := sw.Tag.(*ast.Ident); !ok || id.Name != tag {
				return true
			}
			for _, s := range sw.Body.List {
				for _, e := range s.(*ast.CaseClause).List {
					if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if v, err := strconv.Unquote(lit.Value); err == nil && !strings.HasPrefix(v, "-") {
							cases = append(cases, v)
						}
					}
				}
			}
			return true
		})
	}
	return cases
}

// block is one fenced block of a page.
type block struct{ lang, body string }

func fencedBlocks(md string) []block {
	var out []block
	var cur *block
	var body []string
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &block{lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
			body = nil
		case cur != nil && trimmed == "```":
			cur.body = strings.Join(body, "\n")
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body = append(body, line)
		}
	}
	return out
}

func shellBlocks(md string) []block {
	var out []block
	for _, b := range fencedBlocks(md) {
		switch b.lang {
		case "sh", "bash", "shell", "console":
			out = append(out, b)
		}
	}
	return out
}

// wellKnown variables need no assignment on the page.
var wellKnown = map[string]bool{"HOME": true, "PATH": true, "PWD": true, "USER": true}

// checkShellBlocks returns the problems of the page md's shell blocks, in
// order; variables assigned in one block are known in the later ones.
func checkShellBlocks(w *world, md string) []string {
	var problems []string
	defined := map[string]bool{}
	for _, b := range shellBlocks(md) {
		for _, line := range logicalLines(b) {
			cmds, uses := parseShell(line)
			for _, c := range cmds {
				for _, v := range c.defines {
					defined[v] = true
				}
			}
			for _, v := range uses {
				if !defined[v] && !wellKnown[v] {
					problems = append(problems, fmt.Sprintf("$%s is used before it is set: %s", v, line))
				}
			}
			for _, c := range cmds {
				problems = append(problems, w.check(c, line)...)
			}
		}
	}
	return problems
}

// logicalLines are a block's commands, continuation lines joined; in a
// console block only the lines after a "$ " prompt.
func logicalLines(b block) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(b.body, "\n") {
		if cur.Len() == 0 && b.lang == "console" {
			rest, ok := strings.CutPrefix(strings.TrimSpace(line), "$ ")
			if !ok {
				continue
			}
			line = rest
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	return out
}

// command is one simple command: its environment assignments, its words
// (quotes removed, variables left as written) and the variables it sets.
type command struct {
	assigns []string // NAME of NAME=value before the command word
	words   []string
	defines []string
}

// parseShell splits a line into simple commands (at |, ||, &&, ; and into
// $(...) substitutions) and lists the variables it expands. It knows what
// the pages use: quotes, escapes, comments and substitutions.
func parseShell(line string) (cmds []command, uses []string) {
	var words []string
	var word strings.Builder
	inWord, redirect := false, false
	flushWord := func() {
		if inWord && !redirect {
			words = append(words, word.String())
		}
		if inWord {
			redirect = false
		}
		word.Reset()
		inWord = false
	}
	flushCmd := func() {
		flushWord()
		redirect = false
		if len(words) > 0 {
			cmds = append(cmds, newCommand(words))
		}
		words = nil
	}
	useAt := func(i int) int { // line[i] == '$'; returns the index after it
		rest := line[i+1:]
		braced := strings.HasPrefix(rest, "{")
		rest = strings.TrimPrefix(rest, "{")
		n := 0
		for n < len(rest) && (rest[n] == '_' || unicode.IsLetter(rune(rest[n])) || n > 0 && unicode.IsDigit(rune(rest[n]))) {
			n++
		}
		if n > 0 {
			uses = append(uses, rest[:n])
		}
		if braced {
			n++
		}
		return i + 1 + n
	}
	substitution := func(i int) int { // line[i:] starts with "$("; returns the index after ")"
		depth, j := 1, i+2
		for ; j < len(line) && depth > 0; j++ {
			switch line[j] {
			case '(':
				depth++
			case ')':
				depth--
			}
		}
		inner, innerUses := parseShell(line[i+2 : j-1])
		cmds, uses = append(cmds, inner...), append(uses, innerUses...)
		word.WriteString("$(…)")
		return j
	}
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				end = len(line) - i - 1
			}
			word.WriteString(line[i+1 : i+1+end])
			inWord = true
			i += end + 2
		case c == '"':
			inWord = true
			i++
			for i < len(line) && line[i] != '"' {
				switch {
				case line[i] == '\\' && i+1 < len(line):
					word.WriteByte(line[i+1])
					i += 2
				case strings.HasPrefix(line[i:], "$("):
					i = substitution(i)
				case line[i] == '$':
					j := useAt(i)
					word.WriteString(line[i:j])
					i = j
				default:
					word.WriteByte(line[i])
					i++
				}
			}
			i++
		case c == '\\' && i+1 < len(line):
			word.WriteByte(line[i+1])
			inWord = true
			i += 2
		case c == '#' && !inWord:
			i = len(line)
		case c == ' ' || c == '\t':
			flushWord()
			i++
		case c == '>' || c == '<':
			// A redirection: its target is no argument (nor is a file
			// descriptor before it, as in 2>&1).
			if inWord && strings.Trim(word.String(), "0123456789") == "" {
				word.Reset()
				inWord = false
			}
			flushWord()
			redirect = true
			i++
			if i < len(line) && line[i] == '&' {
				i++
			}
		case c == '|' || c == ';' || c == '&':
			flushCmd()
			i++
		case strings.HasPrefix(line[i:], "$("):
			inWord = true
			i = substitution(i)
		case c == '$':
			inWord = true
			j := useAt(i)
			word.WriteString(line[i:j])
			i = j
		default:
			word.WriteByte(c)
			inWord = true
			i++
		}
	}
	flushCmd()
	return cmds, uses
}

var assignRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=`)

func newCommand(words []string) command {
	var c command
	for len(words) > 0 {
		if m := assignRE.FindStringSubmatch(words[0]); m != nil {
			c.assigns = append(c.assigns, m[1])
			c.defines = append(c.defines, m[1])
			words = words[1:]
			continue
		}
		break
	}
	switch {
	case len(words) > 0 && slices.Contains([]string{"do", "then", "else", "sudo"}, words[0]):
		return newCommand(words[1:])
	case len(words) > 1 && words[0] == "for":
		c.defines = append(c.defines, words[1])
	case len(words) > 1 && words[0] == "export":
		for _, a := range words[1:] {
			if m := assignRE.FindStringSubmatch(a); m != nil {
				c.defines = append(c.defines, m[1])
				c.assigns = append(c.assigns, m[1])
			}
		}
	case len(words) > 1 && words[0] == "read":
		c.defines = append(c.defines, words[len(words)-1])
	}
	c.words = words
	return c
}

// check returns the problems of one command.
func (w *world) check(c command, line string) []string {
	var problems []string
	bad := func(format string, a ...any) {
		problems = append(problems, fmt.Sprintf(format, a...)+": "+line)
	}
	// Settings given to a command or exported: a name that looks like a
	// platform setting must be one.
	if len(c.words) > 0 {
		for _, name := range c.assigns {
			first, _, _ := strings.Cut(name, "_")
			if !w.settings[name] && w.prefixes[first] && !w.otherEnv[name] {
				bad("%s looks like a platform setting, and config.Settings() has none of that name", name)
			}
		}
	}
	if len(c.words) == 0 {
		return problems
	}
	for i, word := range c.words {
		switch word {
		case "storeplatform", "bin/storeplatform", "./bin/storeplatform", "/usr/local/bin/storeplatform":
			for _, p := range w.checkStorePlatform(c.words[i+1:]) {
				bad("%s", p)
			}
		case "storeplatform-dev", "bin/storeplatform-dev", "./bin/storeplatform-dev":
			for _, p := range checkFlags(w.devFlags, c.words[i+1:], 0) {
				bad("storeplatform-dev: %s", p)
			}
		}
	}
	switch filepath.Base(c.words[0]) {
	case "make":
		for _, a := range c.words[1:] {
			if !strings.HasPrefix(a, "-") && !strings.Contains(a, "=") && !w.targets[a] {
				bad("make target %q is not in the Makefile (a target with ## help)", a)
			}
		}
	case "helm":
		for _, p := range checkHelm(c.words[1:]) {
			bad("%s", p)
		}
	case "curl":
		if p := w.checkCurl(c.words[1:]); p != "" {
			bad("%s", p)
		}
	}
	return problems
}

func (w *world) checkStorePlatform(args []string) []string {
	if len(args) == 0 {
		return nil
	}
	flags, ok := w.subcommands[args[0]]
	if !ok {
		return []string{fmt.Sprintf("storeplatform has no subcommand %q", args[0])}
	}
	if args[0] != "token" {
		return checkFlags(flags, args[1:], 0)
	}
	if len(args) < 2 || !w.tokenSubs[args[1]] {
		sub := ""
		if len(args) > 1 {
			sub = args[1]
		}
		return []string{fmt.Sprintf("storeplatform has no token subcommand %q", sub)}
	}
	ids := 0
	if args[1] == "revoke" {
		ids = 1
	}
	return checkFlags(w.tokenFlags, args[2:], ids)
}

// checkFlags checks Go flag-package arguments: every flag is known, and no
// argument is left over but the positionals leading ones (an ID).
func checkFlags(flags map[string]bool, args []string, positionals int) []string {
	var problems []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if i < positionals && !strings.HasPrefix(a, "-") {
			continue
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			problems = append(problems, fmt.Sprintf("unexpected argument %q", a))
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		isBool, ok := flags[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("no flag -%s", name))
			continue
		}
		if !hasValue && !isBool {
			i++
		}
	}
	return problems
}

// checkHelm checks a helm command's chart paths in charts/, and the keys
// of --set, --set-string and --set-json against the values.yaml of the
// repository's chart it installs.
func checkHelm(args []string) []string {
	var problems []string
	var values map[string]any
	for _, a := range args {
		if !strings.HasPrefix(a, "charts/") {
			continue
		}
		if _, err := os.Stat(a); err != nil {
			problems = append(problems, fmt.Sprintf("%s does not exist", a))
			continue
		}
		if b, err := os.ReadFile(filepath.Join(a, "values.yaml")); err == nil {
			if err := yaml.Unmarshal(b, &values); err != nil {
				problems = append(problems, fmt.Sprintf("%s/values.yaml: %v", a, err))
			}
		}
	}
	if values == nil {
		return problems
	}
	for i := 0; i < len(args); i++ {
		opt, val, inline := strings.Cut(args[i], "=")
		if opt != "--set" && opt != "--set-string" && opt != "--set-json" {
			continue
		}
		if !inline && i+1 < len(args) {
			i++
			val = args[i]
		}
		parts := []string{val}
		if opt != "--set-json" {
			parts = splitUnescaped(val, ',')
		}
		for _, p := range parts {
			key, _, ok := strings.Cut(p, "=")
			if ok && !hasValue(values, splitUnescaped(key, '.')) {
				problems = append(problems, fmt.Sprintf("the chart has no value %s", key))
			}
		}
	}
	return problems
}

func splitUnescaped(s string, sep byte) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			cur.WriteByte(s[i+1])
			i++
		case s[i] == sep:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(out, cur.String())
}

var indexRE = regexp.MustCompile(`\[\d+\]$`)

// hasValue: path names a value of v; below an empty map ({}: annotations,
// a node selector), a null or a list, any key is one.
func hasValue(v any, path []string) bool {
	if len(path) == 0 {
		return true
	}
	switch x := v.(type) {
	case nil, []any:
		return true
	case map[string]any:
		if len(x) == 0 {
			return true
		}
		name := indexRE.ReplaceAllString(path[0], "")
		child, ok := x[name]
		if !ok {
			return false
		}
		if name != path[0] {
			_, list := child.([]any)
			return list
		}
		return hasValue(child, path[1:])
	}
	return false
}

// checkCurl checks the method and path of a call to the platform's API
// ($API, or make dev's address) against the OpenAPI description.
func (w *world) checkCurl(args []string) string {
	method, url := "", ""
	data := false
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "-X" || a == "--request") && i+1 < len(args):
			method = args[i+1]
			i++
		case a == "-d" || a == "--data" || a == "--data-binary":
			data = true
			i++
		case strings.HasPrefix(a, "$API"), strings.HasPrefix(a, "${API}"),
			strings.HasPrefix(a, "http://127.0.0.1:8080"), strings.HasPrefix(a, "http://localhost:8080"):
			url = a
		}
	}
	if url == "" {
		return ""
	}
	path := url[strings.IndexAny(url, "}/")+1:]
	if strings.HasPrefix(url, "http") {
		path = strings.TrimPrefix(strings.TrimPrefix(url, "http://127.0.0.1:8080"), "http://localhost:8080")
	}
	path, _, _ = strings.Cut(path, "?")
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if path == "/" {
		return ""
	}
	if method == "" {
		method = "GET"
		if data {
			method = "POST"
		}
	}
	for _, p := range w.apiPaths {
		if p.method == method && p.re.MatchString(path) {
			return ""
		}
	}
	return fmt.Sprintf("%s %s is not in api/openapi.json", method, path)
}

var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// mdLinks are the targets of a page's links and images, outside code.
func mdLinks(md string) []string {
	var out []string
	for _, m := range linkRE.FindAllStringSubmatch(withoutCode(md), -1) {
		out = append(out, m[1])
	}
	return out
}

// withoutCode is md without its fenced blocks and inline code spans.
func withoutCode(md string) string {
	var b strings.Builder
	fenced := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			b.WriteString(regexp.MustCompile("`[^`]*`").ReplaceAllString(line, "") + "\n")
		}
	}
	return b.String()
}

// headingSlugs are the anchors GitHub gives a page's headings: lower case,
// punctuation dropped, spaces as hyphens, repeats numbered.
func headingSlugs(md string) map[string]bool {
	slugs := map[string]bool{}
	seen := map[string]int{}
	fenced := false
	link := regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		text = link.ReplaceAllString(text, "$1")
		var s strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case r == ' ':
				s.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				s.WriteRune(r)
			}
		}
		slug := s.String()
		if n := seen[slug]; n > 0 {
			slugs[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			slugs[slug] = true
		}
		seen[slug]++
	}
	return slugs
}
