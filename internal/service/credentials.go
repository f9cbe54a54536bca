package service

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/store"
)

// Credentials is the store's admin login, read from its Secret on demand.
// It is never stored by the platform outside that Secret.
type Credentials struct {
	Store    string `json:"store"`
	LoginURL string `json:"loginUrl"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// Credentials reads the admin login of the store of name from its Secret,
// for its owner or an admin, when the store is ready. Every read is
// audited: without an audit record the password is not given out.
func (s *Service) Credentials(ctx context.Context, who Caller, name string) (Credentials, error) {
	rec, _, err := s.decided(ctx, who, name, store.RequestCredentials)
	if err != nil {
		return Credentials{}, err
	}
	sec, err := s.c.Kube.CoreV1().Secrets(rec.Spec.Namespace()).Get(ctx, rec.Spec.SecretName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Credentials{}, store.Errorf(store.CodeNotFound, "the store's credentials are gone")
	}
	if err != nil {
		return Credentials{}, err
	}
	if err := s.audit(ctx, who, "read-credentials", rec.Name); err != nil {
		return Credentials{}, err
	}
	return login(rec, string(sec.Data["admin-password"])), nil
}

// login is the admin login of rec's engine with password.
func login(rec store.Record, password string) Credentials {
	c := Credentials{Store: rec.Name, Password: password}
	switch rec.Engine {
	case store.EngineWooCommerce:
		c.LoginURL, c.Username = rec.URL+"/wp-admin/", "admin"
	default:
		c.LoginURL, c.Username = rec.URL+"/app", rec.AdminEmail
		if c.Username == "" {
			c.Username = "admin@example.com"
		}
	}
	return c
}
