package storechart_test

import (
	"testing"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

func TestSplitImage(t *testing.T) {
	tests := []struct{ ref, repo, tag string }{
		{"ghcr.io/acme/medusa:1.2.3", "ghcr.io/acme/medusa", "1.2.3"},
		{"localhost:5000/medusa:2", "localhost:5000/medusa", "2"},
		{"localhost:5000/medusa", "localhost:5000/medusa", ""},
		{"medusa@sha256:abc", "medusa", "@sha256:abc"},
		{"medusa", "medusa", ""},
	}
	for _, tt := range tests {
		repo, tag := storechart.SplitImage(tt.ref)
		if repo != tt.repo || tag != tt.tag {
			t.Errorf("SplitImage(%q) = %q, %q; want %q, %q", tt.ref, repo, tag, tt.repo, tt.tag)
		}
	}
}

func TestValuesForRenders(t *testing.T) {
	for _, spec := range []store.Spec{
		{Name: "shop", Generation: 1, Engine: store.EngineWooCommerce, Host: "shop.example.com", Title: "Shop"},
		{Name: "shop", Generation: 1, Engine: store.EngineMedusa, Host: "shop.example.com", MedusaImage: "ghcr.io/acme/medusa:1.0.0"},
	} {
		r := render(t, values(t, "local", storechart.ValuesFor(spec)))
		if _, ok := r["Ingress/shop"]; !ok {
			t.Errorf("%s: no ingress", spec.Engine)
		}
	}
}

func TestStoreURLFollowsTLS(t *testing.T) {
	for _, tt := range []struct {
		profile string
		want    string
	}{
		{"local", "http://shop.stores.example.com"}, // values-local: TLS off
		{"prod", "https://shop.stores.example.com"}, // values-prod: TLS on
	} {
		if got := storechart.StoreURL(values(t, tt.profile, storeValues("shop", storechart.EngineMedusa))); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.profile, got, tt.want)
		}
	}
	if got := storechart.StoreURL(map[string]any{}); got != "" {
		t.Errorf("no host: %q", got)
	}
}
