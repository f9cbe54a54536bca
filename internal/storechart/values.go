package storechart

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/storeplatform/storeplatform/internal/store"
)

// ValuesFor returns the chart values that make spec's store: its name,
// engine, host, admin account, the Secret the platform created and, for
// Medusa, the owner's image. They are layered over the profile's values.
func ValuesFor(spec store.Spec) map[string]any {
	st := map[string]any{
		"name": spec.Name, "engine": spec.Engine, "host": spec.Host,
		"existingSecret": spec.SecretName(),
	}
	if spec.Title != "" {
		st["title"] = spec.Title
	}
	if spec.AdminEmail != "" {
		st["adminEmail"] = spec.AdminEmail
	}
	st["size"] = spec.SizeOrDefault()
	st["suspended"] = spec.Suspended
	if spec.Tenant != "" {
		st["tenant"] = spec.Tenant
	}
	vals := map[string]any{"store": st}
	if spec.Engine == store.EngineMedusa {
		repo, tag := SplitImage(spec.MedusaImage)
		vals["medusa"] = map[string]any{"image": map[string]any{"repository": repo, "tag": tag}}
	}
	return vals
}

// SplitImage splits "repository:tag" or "repository@sha256:..." into the
// chart's repository and tag values; a reference without either gets an
// empty tag, which the chart's schema rejects.
func SplitImage(ref string) (repository, tag string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[:i], ref[i:]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

// SpecFromValues reads back the parts of a store's spec that its release's
// values hold (title, admin email, host, Medusa image, size, suspended): what
// a revision of the release was made from. Values of the platform's
// profile and size files are not part of the spec.
func SpecFromValues(vals map[string]any) store.Spec {
	st := lookup(vals, "store")
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	spec := store.Spec{
		Name: str(st, "name"), Engine: str(st, "engine"), Host: str(st, "host"),
		Title: str(st, "title"), AdminEmail: str(st, "adminEmail"), Size: str(st, "size"),
		Tenant: str(st, "tenant"),
	}
	spec.Suspended, _ = st["suspended"].(bool)
	if img := lookup(vals, "medusa", "image"); str(img, "repository") != "" {
		repo, tag := str(img, "repository"), str(img, "tag")
		if strings.HasPrefix(tag, "@") {
			spec.MedusaImage = repo + tag
		} else {
			spec.MedusaImage = repo + ":" + tag
		}
	}
	return spec
}

// SpecChanges names the fields of the spec that differ between two
// revisions, as "field: old -> new".
func SpecChanges(old, cur store.Spec) []string {
	var out []string
	add := func(field, a, b string) {
		if a != b {
			out = append(out, field+": "+quoteOrNone(a)+" -> "+quoteOrNone(b))
		}
	}
	add("title", old.Title, cur.Title)
	add("adminEmail", old.AdminEmail, cur.AdminEmail)
	add("host", old.Host, cur.Host)
	add("medusaImage", old.MedusaImage, cur.MedusaImage)
	add("size", old.SizeOrDefault(), cur.SizeOrDefault())
	if old.Suspended != cur.Suspended {
		out = append(out, fmt.Sprintf("suspended: %t -> %t", old.Suspended, cur.Suspended))
	}
	return out
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return strconv.Quote(s)
}

// StoreURL is the public URL of the store that vals (the values a release
// was installed with) make: https when its Ingress has TLS, http otherwise.
func StoreURL(vals map[string]any) string {
	host, _ := lookup(vals, "store")["host"].(string)
	if host == "" {
		return ""
	}
	if tls, _ := lookup(vals, "ingress", "tls")["enabled"].(bool); tls {
		return "https://" + host
	}
	return "http://" + host
}
