package storechart

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/storeplatform/storeplatform/internal/store"
)

// Profile is a profile's values (values-<name>.yaml) and the values of each
// of its sizes (sizes/<name>/<size>.yaml), loaded once. A store's values
// are the profile's, then its size's, then its own (For).
type Profile struct {
	Name  string
	Base  map[string]any
	Sizes map[string]map[string]any
}

// LoadProfile reads the profile called name from the chart in dir, with
// every size of store.Sizes.
func LoadProfile(dir, name string) (Profile, error) {
	base, err := ValuesFile(dir, "values-"+name+".yaml")
	if err != nil {
		return Profile{}, fmt.Errorf("profile %s: %w", name, err)
	}
	p := Profile{Name: name, Base: base, Sizes: map[string]map[string]any{}}
	for _, size := range store.Sizes() {
		v, err := ValuesFile(dir, filepath.Join("sizes", name, size+".yaml"))
		if err != nil {
			return Profile{}, fmt.Errorf("profile %s size %s: %w", name, size, err)
		}
		p.Sizes[size] = v
	}
	return p, nil
}

// With returns p with extra layered over its own values (under every
// size's and store's): the operator's values for every store
// (STORE_VALUES).
func (p Profile) With(extra map[string]any) Profile {
	p.Base = Merge(p.Base, extra)
	return p
}

// For returns the values that make spec's store: the profile's, its
// size's, then the store's own.
func (p Profile) For(spec store.Spec) map[string]any {
	return Merge(p.Base, p.Sizes[spec.SizeOrDefault()], ValuesFor(spec))
}

// Size is one size as GET /api/sizes shows it.
type Size struct {
	Name string `json:"name"`
	// Quota is the namespace's ResourceQuota.
	Quota map[string]any `json:"quota"`
	// Workloads maps each workload to its replicas and resources, per
	// engine.
	Workloads map[string]map[string]any `json:"workloads"`
	// Volumes maps each volume to its size at creation.
	Volumes map[string]any `json:"volumes"`
}

// Describe lists the profile's sizes, smallest first.
func (p Profile) Describe() []Size {
	var out []Size
	for _, name := range store.Sizes() {
		v := p.Sizes[name]
		s := Size{Name: name, Quota: lookup(v, "resourceQuota", "hard"), Workloads: map[string]map[string]any{}, Volumes: map[string]any{}}
		for _, w := range []struct {
			engine, name string
			path         []string
		}{
			{EngineWooCommerce, "wordpress", []string{"woocommerce"}},
			{EngineWooCommerce, "mariadb", []string{"mariadb"}},
			{EngineMedusa, "medusa-server", []string{"medusa", "server"}},
			{EngineMedusa, "medusa-worker", []string{"medusa", "worker"}},
			{EngineMedusa, "postgresql", []string{"postgresql"}},
			{EngineMedusa, "redis", []string{"redis"}},
		} {
			m := lookup(v, w.path...)
			if s.Workloads[w.engine] == nil {
				s.Workloads[w.engine] = map[string]any{}
			}
			replicas := m["replicas"]
			if replicas == nil {
				replicas = 1
			}
			s.Workloads[w.engine][w.name] = map[string]any{"replicas": replicas, "resources": m["resources"]}
			if pv := lookup(m, "persistence"); pv["size"] != nil {
				s.Volumes[w.name] = pv["size"]
			}
		}
		out = append(out, s)
	}
	return out
}

// HasSize reports whether size is one of the profile's.
func (p Profile) HasSize(size string) bool {
	_, ok := p.Sizes[size]
	return ok && slices.Contains(store.Sizes(), size)
}

func lookup(m map[string]any, path ...string) map[string]any {
	for _, k := range path {
		next, _ := m[k].(map[string]any)
		m = next
	}
	if m == nil {
		return map[string]any{}
	}
	return m
}
