package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/storeplatform/storeplatform/internal/store"
)

// CreateStoreRequest is the body of POST /api/stores.
type CreateStoreRequest struct {
	Name        string `json:"name"`
	Engine      string `json:"engine"`
	Title       string `json:"title,omitempty"`
	AdminEmail  string `json:"adminEmail,omitempty"`
	Host        string `json:"host,omitempty"`
	Size        string `json:"size,omitempty"`
	MedusaImage string `json:"medusaImage,omitempty"`
}

// Validation messages. The dashboard shows the same texts for the same
// rules (see web/), so they are part of the API's contract.
const (
	MsgNameRequired    = "is required"
	MsgNameFormat      = "must be 3 to 40 characters: lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit"
	MsgNameReserved    = "is reserved"
	MsgEngine          = "must be woocommerce or medusa"
	MsgTitle           = "must be at most 200 characters"
	MsgEmail           = "must be an email address"
	MsgHost            = "must be a DNS host name such as shop.example.com"
	MsgSize            = "must be small, medium or large"
	MsgMedusaImage     = "is required for a Medusa store: repository:tag of your Medusa image"
	MsgMedusaImageForm = "must be repository:tag or repository@sha256:digest, and not :latest"
	MsgMedusaImageWoo  = "is only for Medusa stores"
	MsgNamePrefix      = "must be 1 to 40 characters: lowercase letters, digits and hyphens (the start of a store's name)"
)

var (
	nameRE       = regexp.MustCompile(`^[a-z]([-a-z0-9]{1,38}[a-z0-9])$`)
	namePrefixRE = regexp.MustCompile(`^[-a-z0-9]{1,40}$`)
	hostRE       = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$`)
	emailRE      = regexp.MustCompile(`^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$`)
	imageRE      = regexp.MustCompile(`^[a-z0-9]+([._/:-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$`)
)

// reservedNames cannot be store names: they are, or look like, namespaces
// of the cluster or of the platform itself.
var reservedNames = map[string]bool{
	"default": true, "temporal": true, "storeplatform": true, "store-platform": true,
	"ingress-nginx": true, "cert-manager": true, "monitoring": true, "admin": true, "api": true,
}

// reservedNamespaces cannot be a store's namespace (store.NamespaceFor):
// store-platform is where docs/deploy.md installs the platform itself, so the
// store "platform" would fail and its deletion would stick on a namespace
// that is not its own.
var reservedNamespaces = map[string]bool{"store-platform": true}

// reservedNamespace reports whether a store must not have namespace ns.
func reservedNamespace(ns string) bool {
	return reservedNamespaces[ns] || ns == "default" || strings.HasPrefix(ns, "kube-") || strings.HasPrefix(ns, "openshift-")
}

// ValidateName checks a store name; the message is "" when it is valid. A
// name is reserved by itself, or by the namespace it would get.
func ValidateName(name string) string {
	switch {
	case name == "":
		return MsgNameRequired
	case !nameRE.MatchString(name):
		return MsgNameFormat
	case reservedNames[name] || strings.HasPrefix(name, "kube-") || strings.HasPrefix(name, "openshift-"),
		reservedNamespace(store.NamespaceFor(name)):
		return MsgNameReserved
	}
	return ""
}

// Validate returns every bad field of r.
func (r CreateStoreRequest) Validate() []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	if msg := ValidateName(r.Name); msg != "" {
		add("name", msg)
	}
	switch r.Engine {
	case "woocommerce":
		if r.MedusaImage != "" {
			add("medusaImage", MsgMedusaImageWoo)
		}
	case "medusa":
		switch {
		case r.MedusaImage == "":
			add("medusaImage", MsgMedusaImage)
		case !imageRE.MatchString(r.MedusaImage) || strings.HasSuffix(r.MedusaImage, ":latest"):
			add("medusaImage", MsgMedusaImageForm)
		}
	default:
		add("engine", MsgEngine)
	}
	if len([]rune(r.Title)) > 200 {
		add("title", MsgTitle)
	}
	if r.AdminEmail != "" && !emailRE.MatchString(r.AdminEmail) {
		add("adminEmail", MsgEmail)
	}
	if r.Host != "" && (len(r.Host) > 253 || !hostRE.MatchString(r.Host)) {
		add("host", MsgHost)
	}
	switch r.Size {
	case "", "small", "medium", "large":
	default:
		add("size", MsgSize)
	}
	return errs
}

// decodeJSON reads a JSON request body into v: the media type must be JSON,
// the body at most 64 KiB, one object with no unknown field and no value of
// the wrong type. Every failure is a 4xx Problem.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) *Problem {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return newProblem(ProblemUnsupportedMedia, "the request body must be application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("unexpected data after the JSON object")
		}
	}
	if err == nil {
		return nil
	}
	var tooLarge *http.MaxBytesError
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	p := newProblem(ProblemMalformed, "")
	switch {
	case errors.As(err, &tooLarge):
		return newProblem(ProblemTooLarge, fmt.Sprintf("the request body must be at most %d bytes", maxBodyBytes))
	case errors.Is(err, io.EOF):
		p.Detail = "the request body is empty"
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		p.Detail = "the request body is not valid JSON"
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(body)"
		}
		return invalid("a field has the wrong type", FieldError{Field: field, Message: "must be a " + jsonType(typeErr.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalid("the request has a field this API does not know", FieldError{Field: field, Message: "is not a known field"})
	default:
		p.Detail = "the request body could not be read as one JSON object"
	}
	return p
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	default:
		return "number"
	}
}

// decodeCreateStore decodes and validates a create request.
func decodeCreateStore(w http.ResponseWriter, r *http.Request) (CreateStoreRequest, *Problem) {
	var req CreateStoreRequest
	if p := decodeJSON(w, r, &req); p != nil {
		return req, p
	}
	if errs := req.Validate(); len(errs) > 0 {
		return req, invalid("some fields are not valid", errs...)
	}
	return req, nil
}
