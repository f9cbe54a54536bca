package docsection

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	m := For("x", "a test")
	for _, tt := range []struct {
		name, old, want string
	}{
		{"new page", "", "# T\n\n" + m.Begin + "\nnew\n" + m.End + "\n"},
		{"page without markers", "# P\n\ntext\n", "# P\n\ntext\n\n" + m.Begin + "\nnew\n" + m.End + "\n"},
		{"replaces between markers", "# P\n\n" + m.Begin + "\nold\n" + m.End + "\n\nkept\n", "# P\n\n" + m.Begin + "\nnew\n" + m.End + "\n\nkept\n"},
		{"other markers stay", "# P\n\n" + For("y", "b").Begin + "\nother\n" + For("y", "b").End + "\n",
			"# P\n\n" + For("y", "b").Begin + "\nother\n" + For("y", "b").End + "\n\n" + m.Begin + "\nnew\n" + m.End + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "docs", "p.md")
			if tt.old != "" {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tt.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for range 2 { // a second write gives the same page
				if err := Write(path, m, "new\n", "T"); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("page:\n%q\nwant:\n%q", b, tt.want)
			}
		})
	}
}
