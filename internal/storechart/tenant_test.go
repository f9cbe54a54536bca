package storechart_test

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// TestTenantRuleIsTheChartsRule: auth.ValidateTenant, checked where tokens
// are made, accepts exactly the tenants the store chart's schema accepts
// in a store's values. (The chart also accepts "", meaning no tenant; a
// token always has one, and ValuesFor leaves an empty tenant out.)
func TestTenantRuleIsTheChartsRule(t *testing.T) {
	c := loadChart(t)
	tests := []struct {
		tenant string
		valid  bool
	}{
		{"acme", true},
		{"a", true},
		{"9lives", true},
		{"Acme.EU_1", true},
		{"acme-eu", true},
		{"acme-", true},
		{strings.Repeat("a", 63), true},
		{"acme:eu", false},
		{"acme/eu", false},
		{"acme eu", false},
		{"-acme", false},
		{".acme", false},
		{"_acme", false},
		{"acmé", false},
		{"acme\n", false},
		{strings.Repeat("a", 64), false},
	}
	for _, tt := range tests {
		t.Run(tt.tenant, func(t *testing.T) {
			spec := store.Spec{Name: "shop", Generation: 1, Engine: store.EngineWooCommerce, Host: "shop.example.com", Tenant: tt.tenant}
			chartErr := chartutil.ValidateAgainstSchema(c, values(t, "local", storechart.ValuesFor(spec)))
			goErr := auth.ValidateTenant(tt.tenant)
			if (chartErr == nil) != tt.valid || (goErr == nil) != tt.valid {
				t.Fatalf("want valid=%v; the chart says %v, ValidateTenant says %v", tt.valid, chartErr, goErr)
			}
		})
	}
}
