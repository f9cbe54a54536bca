package codec

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

func key(t *testing.T, id string, b byte) Key {
	t.Helper()
	return Key{ID: id, Secret: bytes.Repeat([]byte{b}, KeySize)}
}

func mustNew(t *testing.T, keys ...Key) *Codec {
	t.Helper()
	c, err := New(keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func plainPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundTripHidesThePlaintext(t *testing.T) {
	c := mustNew(t, key(t, "k1", 1))
	in := plainPayload(t, map[string]string{"title": "Secret Shop", "adminEmail": "owner@example.com"})
	enc, err := c.Encode([]*commonpb.Payload{in})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(enc[0].Metadata[converter.MetadataEncoding]); got != Encoding {
		t.Fatalf("encoding %q", got)
	}
	if got := string(enc[0].Metadata[MetadataKeyID]); got != "k1" {
		t.Fatalf("key ID %q", got)
	}
	wire, _ := proto.Marshal(enc[0])
	for _, s := range []string{"Secret Shop", "owner@example.com", "json/plain"} {
		if bytes.Contains(wire, []byte(s)) {
			t.Errorf("the encoded payload shows %q", s)
		}
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(dec[0], in) {
		t.Fatalf("decoded %v, want %v", dec[0], in)
	}
}

// TestRotation: a codec with a new key first still decodes what the old
// key encrypted, and encrypts with the new key.
func TestRotation(t *testing.T) {
	old := mustNew(t, key(t, "2026-01", 1))
	rotated := mustNew(t, key(t, "2026-06", 2), key(t, "2026-01", 1))
	in := plainPayload(t, "store spec")
	enc, err := old.Encode([]*commonpb.Payload{in})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := rotated.Decode(enc)
	if err != nil || !proto.Equal(dec[0], in) {
		t.Fatalf("old payload through the rotated codec: %v, %v", dec, err)
	}
	enc2, err := rotated.Encode([]*commonpb.Payload{in})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(enc2[0].Metadata[MetadataKeyID]); got != "2026-06" {
		t.Fatalf("rotated codec encrypts with %q", got)
	}
	if _, err := old.Decode(enc2); err == nil || !strings.Contains(err.Error(), `"2026-06"`) {
		t.Fatalf("the old codec must name the key it lacks, got %v", err)
	}
}

func TestDecodeRefusesBadPayloads(t *testing.T) {
	c := mustNew(t, key(t, "k1", 1))
	other := mustNew(t, key(t, "k1", 9)) // same ID, another key
	good, err := c.Encode([]*commonpb.Payload{plainPayload(t, "hello")})
	if err != nil {
		t.Fatal(err)
	}
	fromOther, err := other.Encode([]*commonpb.Payload{plainPayload(t, "hello")})
	if err != nil {
		t.Fatal(err)
	}
	tampered := proto.Clone(good[0]).(*commonpb.Payload)
	tampered.Data[len(tampered.Data)-1] ^= 1
	relabelled := proto.Clone(good[0]).(*commonpb.Payload)
	relabelled.Metadata[MetadataKeyID] = []byte("k2")
	short := proto.Clone(good[0]).(*commonpb.Payload)
	short.Data = short.Data[:4]
	tests := []struct {
		name    string
		p       *commonpb.Payload
		wantErr string
	}{
		{"tampered ciphertext", tampered, "cannot be decrypted"},
		{"another key under the same ID", fromOther[0], "cannot be decrypted"},
		{"unknown key ID", relabelled, `key "k2", which is not configured`},
		{"too short", short, "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Decode([]*commonpb.Payload{tt.p})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want an error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

// TestDecodePassesPlainPayloadsThrough: histories written before the codec
// was turned on still read.
func TestDecodePassesPlainPayloadsThrough(t *testing.T) {
	c := mustNew(t, key(t, "k1", 1))
	in := plainPayload(t, "written in the clear")
	dec, err := c.Decode([]*commonpb.Payload{in})
	if err != nil || dec[0] != in {
		t.Fatalf("got %v, %v", dec, err)
	}
}

func TestParseKeysAndNew(t *testing.T) {
	k32 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	k16 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 16))
	tests := []struct {
		name     string
		file     string
		wantErr  string // "" means valid
		wantKeys []string
	}{
		{"two keys, comments", "# current first\nnew=" + k32 + "\n\nold = " + k32 + "\n", "", []string{"new", "old"}},
		{"empty", "# nothing\n", "no keys", nil},
		{"no equals sign", k32 + "\n", "line 1: not id=base64key", nil},
		{"bad base64", "k1=not*base64\n", "line 1: the key is not standard base64", nil},
		{"short key", "k1=" + k16 + "\n", `key "k1": is 16 bytes, want 32`, nil},
		{"duplicate ID", "k1=" + k32 + "\nk1=" + k32 + "\n", `the ID "k1" is used twice`, nil},
		{"bad ID", "k 1=" + k32 + "\n", "line 1: not id=base64key", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want an error containing %q, got %v", tt.wantErr, err)
				}
				if strings.Contains(err.Error(), k32) || strings.Contains(err.Error(), k16) {
					t.Fatalf("the error shows key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.CurrentKeyID() != tt.wantKeys[0] || len(c.aeads) != len(tt.wantKeys) {
				t.Fatalf("current %q, %d keys; want %v", c.CurrentKeyID(), len(c.aeads), tt.wantKeys)
			}
		})
	}
}

// TestFailureMessagesAreEncrypted: with the codec's failure converter, an
// error's message is not stored in the clear.
func TestFailureMessagesAreEncrypted(t *testing.T) {
	c := mustNew(t, key(t, "k1", 1))
	f := c.FailureConverter().ErrorToFailure(errString("install of Secret Shop failed"))
	wire, _ := proto.Marshal(f)
	if bytes.Contains(wire, []byte("Secret Shop")) {
		t.Fatalf("the failure shows its message: %v", f)
	}
	if got := c.FailureConverter().FailureToError(f).Error(); !strings.Contains(got, "Secret Shop") {
		t.Fatalf("decoded failure %q", got)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
