package chaos

import (
	"encoding/base64"
	"strings"
	"testing"
	"testing/iotest"
)

// TestSecretScanFindsValuesAnywhere: a credential value is found as it is
// and in base64, at the start and the end of the input, across the scan's
// chunk boundary and read one byte at a time; a value that is part of a
// longer hex run is found too, and near misses are not.
func TestSecretScanFindsValuesAnywhere(t *testing.T) {
	v1 := strings.Repeat("0123456789abcdef", 4)
	v2 := strings.Repeat("fedcba9876543210", 4)
	sc, odd := newSecretScan(map[string]string{v1: "s1-001", v2: "s5-002", "short": "s1-002"})
	if len(odd) != 1 || odd[0] != "short" {
		t.Fatalf("values that cannot be scanned for: %v", odd)
	}
	pad := strings.Repeat("x", 1<<20-10) // v1 spans the first chunk's end
	b64 := base64.StdEncoding.EncodeToString([]byte(v2))
	in := v1 + " {\"data\":{\"db-password\":\"" + b64 + "\"}} " + pad + v1 + " almost " + v1[:63] + "g " + "00" + v2 + "11 " + v2[1:] + "0"
	for name, r := range map[string]func() *strings.Reader{"whole": func() *strings.Reader { return strings.NewReader(in) }} {
		for _, oneByte := range []bool{false, true} {
			var hits []hit
			var n int64
			var err error
			if oneByte {
				hits, n, err = sc.reader(iotest.OneByteReader(r()), name)
			} else {
				hits, n, err = sc.reader(r(), name)
			}
			if err != nil || n != int64(len(in)) {
				t.Fatalf("scanned %d of %d bytes: %v", n, len(in), err)
			}
			var owners []string
			for _, h := range hits {
				owners = append(owners, h.Owner)
				if h.Owner == "s1-001" && in[h.Offset:h.Offset+64] != v1 {
					t.Errorf("hit at %d does not hold the value", h.Offset)
				}
			}
			if got, want := strings.Join(owners, " "), "s1-001 s5-002 s1-001 s5-002"; got != want {
				t.Errorf("one byte at a time %v: hits %q, want %q", oneByte, got, want)
			}
		}
	}
}
