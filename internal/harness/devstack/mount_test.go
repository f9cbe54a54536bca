package devstack

import "testing"

// TestUnescapeMount: mountinfo writes a space, a tab, a newline and a
// backslash in a path as octal escapes; anything else is left as it is.
func TestUnescapeMount(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/a/b", "/a/b"},
		{`/a\040b`, "/a b"},
		{`/a\011b\012c`, "/a\tb\nc"},
		{`/a\134b`, `/a\b`},
		{`/trailing\04`, `/trailing\04`},
		{`/not\9octal`, `/not\9octal`},
	} {
		if got := unescapeMount(tt.in); got != tt.want {
			t.Errorf("unescapeMount(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
