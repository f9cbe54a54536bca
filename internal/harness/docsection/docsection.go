// Package docsection writes a measured section into a page of docs/:
// what is between two markers is replaced, and the text people wrote
// around it is kept.
package docsection

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
)

// Markers are the comments around a written section: Begin and End as
// they appear in the page.
type Markers struct{ Begin, End string }

// For is the pair of markers of a section named name, written by who
// (e.g. "make chaos, cmd/chaos").
func For(name, who string) Markers {
	return Markers{
		Begin: "<!-- " + name + ":begin (written by " + who + "; edits between these markers are overwritten) -->",
		End:   "<!-- " + name + ":end -->",
	}
}

// Write puts content between m's markers in the page at path, keeping the
// text around them; a page without the markers gets the section appended,
// and a missing page is made with title.
func Write(path string, m Markers, content, title string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	section := m.Begin + "\n" + content + m.End
	var out []byte
	i, j := bytes.Index(old, []byte(m.Begin)), bytes.Index(old, []byte(m.End))
	switch {
	case i >= 0 && j > i:
		out = append(append(append([]byte{}, old[:i]...), section...), old[j+len(m.End):]...)
	case len(old) > 0:
		out = append(append(old, '\n'), section+"\n"...)
	default:
		out = []byte("# " + title + "\n\n" + section + "\n")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}
