package chaos

import (
	"encoding/base64"
	"errors"
	"io"
	"os"
)

// secretScan looks for credential values in files: each value as it is
// (64 hex digits, as activities.EnsureCredentials makes them) and in base64
// (how a Secret's data appears in JSON).
type secretScan struct {
	hex map[[64]byte]string // value -> owner
	b64 map[[88]byte]string // base64 of the value -> owner
}

// newSecretScan scans for the values of owners (value -> the store that
// owns it). Values that are not 64 characters long cannot be scanned for
// and are returned.
func newSecretScan(owners map[string]string) (*secretScan, []string) {
	s := &secretScan{hex: map[[64]byte]string{}, b64: map[[88]byte]string{}}
	var odd []string
	for v, owner := range owners {
		if len(v) != 64 {
			odd = append(odd, v)
			continue
		}
		s.hex[[64]byte([]byte(v))] = owner
		s.b64[[88]byte([]byte(base64.StdEncoding.EncodeToString([]byte(v))))] = owner
	}
	return s, odd
}

// hit is one occurrence of a credential value in a file.
type hit struct {
	File, Owner string
	Offset      int64
}

func isHex(b byte) bool { return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' }

func isBase64(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || b == '+' || b == '/' || b == '='
}

// file scans one file, streaming; a missing file has no hits.
func (s *secretScan) file(path string) (hits []hit, size int64, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return s.reader(f, path)
}

// reader scans r chunk by chunk, carrying the last 87 bytes over: it keeps
// the length of the current runs of hex and base64 characters and looks up
// the window of a needle's length that ends at each byte of a long enough
// run.
func (s *secretScan) reader(r io.Reader, name string) ([]hit, int64, error) {
	const keep = 87
	var (
		hits           []hit
		base           int64 // offset of buf[0] in the file
		hexRun, b64Run int
	)
	buf := make([]byte, keep+1<<20)
	carry := 0
	for {
		n, err := r.Read(buf[carry:])
		data := buf[:carry+n]
		for i := carry; i < len(data); i++ {
			b := data[i]
			if isHex(b) {
				hexRun++
			} else {
				hexRun = 0
			}
			if isBase64(b) {
				b64Run++
			} else {
				b64Run = 0
			}
			if hexRun >= 64 {
				if owner, ok := s.hex[[64]byte(data[i-63:i+1])]; ok {
					hits = append(hits, hit{File: name, Owner: owner, Offset: base + int64(i-63)})
				}
			}
			if b64Run >= 88 {
				if owner, ok := s.b64[[88]byte(data[i-87:i+1])]; ok {
					hits = append(hits, hit{File: name, Owner: owner, Offset: base + int64(i-87)})
				}
			}
		}
		if err == io.EOF {
			return hits, base + int64(len(data)), nil
		}
		if err != nil {
			return hits, base + int64(len(data)), err
		}
		c := min(keep, len(data))
		base += int64(len(data) - c)
		copy(buf, data[len(data)-c:])
		carry = c
	}
}
