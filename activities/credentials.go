package activities

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"go.temporal.io/sdk/temporal"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/storechart"
)

// CredentialsResult says what EnsureCredentials did. It never carries a
// credential: results are stored in the workflow's history.
type CredentialsResult struct {
	SecretName string `json:"secretName"`
	Created    bool   `json:"created"`
	// Added lists keys added to an existing Secret that lacked them.
	Added []string `json:"added,omitempty"`
}

// EnsureCredentials makes the store's Secret with a random value (32 bytes
// from crypto/rand, hex) for every key the chart reads. It never changes a
// value that exists, so retries and upgrades keep the passwords the
// databases were initialised with; keys missing from an existing Secret are
// added. It first checks that the namespace is this installation's (see
// ours) and does not read a Secret in one that is not; a Secret another
// installation, or nobody, made is a permanent NamespaceNotOurs.
func (a *Activities) EnsureCredentials(ctx context.Context, in NamespaceInput) (CredentialsResult, error) {
	spec := in.Spec
	keys := storechart.SecretKeys(spec.Engine)
	if keys == nil {
		return CredentialsResult{}, temporal.NewNonRetryableApplicationError("unknown engine "+spec.Engine, ErrInvalidSpec, nil)
	}
	id, err := a.installation()
	if err != nil {
		return CredentialsResult{}, err
	}
	res := CredentialsResult{SecretName: spec.SecretName()}
	if gone, err := a.ourNamespace(ctx, spec); err != nil {
		return res, err
	} else if gone {
		return res, fmt.Errorf("namespace %s does not exist (yet)", spec.Namespace())
	}
	secrets := a.Kube.CoreV1().Secrets(spec.Namespace())
	cur, err := secrets.Get(ctx, res.SecretName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		data, err := randomValues(keys)
		if err != nil {
			return res, err
		}
		_, err = secrets.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name:   res.SecretName,
				Labels: map[string]string{LabelStore: spec.Name, LabelManagedBy: ManagedBy, LabelInstallation: id},
			},
			Type: corev1.SecretTypeOpaque,
			Data: data,
		}, metav1.CreateOptions{})
		if err == nil {
			res.Created = true
			return res, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return res, fmt.Errorf("create secret %s: %w", res.SecretName, err)
		}
		// Created meanwhile by a concurrent attempt: fall through and check it.
		if cur, err = secrets.Get(ctx, res.SecretName, metav1.GetOptions{}); err != nil {
			return res, fmt.Errorf("get secret %s: %w", res.SecretName, err)
		}
	} else if err != nil {
		return res, fmt.Errorf("get secret %s: %w", res.SecretName, err)
	}

	stamp, err := a.secretStamp(cur, spec)
	if err != nil {
		return res, err
	}
	var missing []string
	for _, k := range keys {
		if len(cur.Data[k]) == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 && !stamp {
		return res, nil
	}
	add, err := randomValues(missing)
	if err != nil {
		return res, err
	}
	if cur.Data == nil {
		cur.Data = map[string][]byte{}
	}
	for k, v := range add {
		cur.Data[k] = v
	}
	if stamp { // made before installations had an identity, in our namespace
		cur.Labels[LabelInstallation] = id
	}
	// Update carries the resourceVersion read above: a concurrent change
	// makes it fail with a conflict, and the retry starts from a fresh read.
	if _, err := secrets.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return res, fmt.Errorf("update secret %s: %w", res.SecretName, err)
	}
	res.Added = missing
	return res, nil
}

func randomValues(keys []string) (map[string][]byte, error) {
	data := make(map[string][]byte, len(keys))
	for _, k := range keys {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("random: %w", err)
		}
		data[k] = []byte(hex.EncodeToString(b))
	}
	return data, nil
}
