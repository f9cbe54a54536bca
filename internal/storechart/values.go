package storechart

import (
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
