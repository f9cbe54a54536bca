package storechart

// Engines the chart can run.
const (
	EngineWooCommerce = "woocommerce"
	EngineMedusa      = "medusa"
)

// SecretKeys lists the keys the chart reads from store.existingSecret for
// engine, or nil for an unknown engine. The platform generates a random value
// for each before install; the chart never generates one.
func SecretKeys(engine string) []string {
	switch engine {
	case EngineWooCommerce:
		return []string{
			"admin-password", "db-password", "db-root-password",
			"wp-auth-key", "wp-secure-auth-key", "wp-logged-in-key", "wp-nonce-key",
			"wp-auth-salt", "wp-secure-auth-salt", "wp-logged-in-salt", "wp-nonce-salt",
		}
	case EngineMedusa:
		return []string{"admin-password", "db-password", "redis-password", "jwt-secret", "cookie-secret"}
	}
	return nil
}
