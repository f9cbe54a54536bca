package devstack

import (
	"errors"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/storeplatform/storeplatform/internal/storechart"
)

// storeValuesFile is the file in the node's directory that holds
// RealNodeStoreValues.
const storeValuesFile = "store-values.yaml"

// RealNodeStoreValues are the store chart values (chart 0.6.0 on) that run
// a store on the real node: its label and toleration of its taint on
// every pod, its StorageClass for every volume, the PostgreSQL and Redis
// images built here, an Ingress of the local ingress's class with TLS (no
// Secret: the ingress's default certificate answers), and DNS egress to
// nodeIP (networkPolicy.dnsCIDRs): the cluster DNS runs on the node, not
// in a kube-system pod, so where NetworkPolicy is enforced the stores
// would resolve no name without it. The Medusa image is the store's own
// (medusaImage: MedusaImage).
func RealNodeStoreValues(nodeIP string) map[string]any {
	image := func(ref string) map[string]any {
		repository, tag := storechart.SplitImage(ref)
		return map[string]any{"repository": repository, "tag": tag, "pullPolicy": "Never"}
	}
	return map[string]any{
		"placement": map[string]any{
			"nodeSelector": map[string]any{RealNodeLabel: RealNodeLabelValue},
			"tolerations":  []any{map[string]any{"key": RealNodeTaint, "operator": "Exists", "effect": "NoSchedule"}},
		},
		"storageClass":  RealNodeStorageClass,
		"postgresql":    map[string]any{"image": image(PostgresImage)},
		"redis":         map[string]any{"image": image(RedisImage)},
		"ingress":       map[string]any{"className": IngressClass, "tls": map[string]any{"enabled": true}},
		"networkPolicy": map[string]any{"dnsCIDRs": []any{nodeIP + "/32"}},
	}
}

// StoreValues is the path of a values file holding RealNodeStoreValues
// (STORE_VALUES), written when the real node started; "" when the stack
// has none.
func (s *Stack) StoreValues() string {
	if s.node == nil {
		return ""
	}
	return s.node.path(storeValuesFile)
}

// writeStoreValues writes RealNodeStoreValues where StoreValues says.
func (n *realNode) writeStoreValues() error {
	data, err := yaml.Marshal(RealNodeStoreValues(n.ip))
	if err != nil {
		return err
	}
	if err := os.WriteFile(n.path(storeValuesFile), data, 0o644); err != nil {
		return errors.Join(errors.New("devstack: store values"), err)
	}
	return nil
}
