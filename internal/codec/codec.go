// Package codec encrypts Temporal payloads with AES-256-GCM, so that the
// Temporal server, its database and exported histories hold only ciphertext
// of what the API and the worker send (store specs, activity inputs and
// results). It implements converter.PayloadCodec; the API also serves it,
// for decoding only, to operators' Web UI and CLI.
//
// Keys come from a file of "id=base64key" lines. The first key encrypts;
// every key decrypts, picked by the key ID each payload carries in its
// metadata, so a key is rotated by putting a new line first and keeping the
// old ones until no history needs them.
package codec

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	// Encoding is the metadata "encoding" of an encrypted payload. Payloads
	// with another encoding are passed through by Decode, so histories
	// written before encryption was turned on still read.
	Encoding = "binary/encrypted"
	// MetadataKeyID is the metadata key naming the key a payload was
	// encrypted with.
	MetadataKeyID = "encryption-key-id"
	// KeySize is the length of a key: AES-256.
	KeySize = 32
)

// keyIDPattern keeps key IDs short and printable: they are written into
// every payload's metadata and into error messages.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Key is one named AES-256 key.
type Key struct {
	ID     string
	Secret []byte
}

// Codec encrypts with its current key and decrypts with any of its keys.
type Codec struct {
	current string
	aeads   map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec that encrypts with keys[0] and decrypts with any of
// keys. Key IDs must be unique.
func New(keys []Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("no keys")
	}
	c := &Codec{current: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for i, k := range keys {
		if !keyIDPattern.MatchString(k.ID) {
			return nil, fmt.Errorf("key %d: the ID must be 1 to 64 letters, digits, '.', '_' or '-'", i+1)
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("key %d: the ID %q is used twice", i+1, k.ID)
		}
		if len(k.Secret) != KeySize {
			// The length only: the key itself stays out of errors.
			return nil, fmt.Errorf("key %q: is %d bytes, want %d (AES-256)", k.ID, len(k.Secret), KeySize)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		if c.aeads[k.ID], err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
	}
	return c, nil
}

// ParseKeys reads "id=base64key" lines (standard base64 of 32 bytes); blank
// lines and lines starting with # are skipped. The first key is the current
// one. Errors name the line, never its key.
func ParseKeys(r io.Reader) ([]Key, error) {
	var keys []Key
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// A key without its ID also has an "=" (base64's padding): the
		// ID's form and a non-empty key tell the two apart, so a key is not
		// mistaken for an ID and echoed in an error.
		id, b64, ok := strings.Cut(line, "=")
		id, b64 = strings.TrimSpace(id), strings.TrimSpace(b64)
		if !ok || b64 == "" || !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("line %d: not id=base64key (an ID is 1 to 64 letters, digits, '.', '_' or '-')", n)
		}
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("line %d: the key is not standard base64", n)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("no keys")
	}
	return keys, nil
}

// Load reads a key file (see ParseKeys) and returns its codec.
func Load(path string) (*Codec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	keys, err := ParseKeys(f)
	if err != nil {
		return nil, err
	}
	return New(keys)
}

// DataConverter is the SDK's default data converter with this codec after
// it: what the API's and the worker's Temporal clients use.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter moves failures' messages and stack traces into their
// encoded attributes, which the data converter encrypts: an error message
// can quote a store's spec (a Helm error quoting a value, for one), and a
// failure's message is otherwise stored in the clear.
func (c *Codec) FailureConverter() converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: c.DataConverter(), EncodeCommonAttributes: true,
	})
}

// CurrentKeyID is the ID of the key that Encode uses.
func (c *Codec) CurrentKeyID() string { return c.current }

// Encode encrypts each whole payload, metadata included (its encoding would
// otherwise tell what it holds), with the current key. The key ID is the
// additional data, so a payload cannot be relabelled to another key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("payload %d: %w", i, err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(c.current),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(c.current)),
		}
	}
	return out, nil
}

// Decode decrypts the encrypted payloads with the key each names and passes
// the others through. An unknown key or a payload that fails
// authentication (tampered, or the wrong key under that ID) is an error.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("payload %d: encrypted with key %q, which is not configured", i, printable(id))
		}
		data := p.GetData()
		if len(data) < aead.NonceSize() {
			return nil, fmt.Errorf("payload %d: too short to be encrypted", i)
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("payload %d: cannot be decrypted with key %q (tampered or a different key)", i, id)
		}
		out[i] = &commonpb.Payload{}
		if err := proto.Unmarshal(plain, out[i]); err != nil {
			return nil, fmt.Errorf("payload %d: decrypted, but not a payload: %w", i, err)
		}
	}
	return out, nil
}

// printable keeps an untrusted key ID out of an error unless it has the
// form of a key ID.
func printable(id string) string {
	if keyIDPattern.MatchString(id) {
		return id
	}
	return "(malformed)"
}
