package devstack

import (
	"context"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/storeplatform/storeplatform/internal/harness/nodeimage"
)

// HelloImage is the real node's test workload (bin/hello,
// internal/harness/cmd/hello): it serves its pod's name, DNS lookups, a
// volume's files and TCP dials on port 8080.
const HelloImage = "docker.io/storeplatform/hello:local"

// ImportHelloImage imports HelloImage into the real node.
func (s *Stack) ImportHelloImage(ctx context.Context) error {
	return s.ImportImages(ctx, nodeimage.Image{
		Ref:    HelloImage,
		Files:  []nodeimage.File{{Path: "/hello", Source: filepath.Join(s.opts.BinDir, "hello"), Mode: 0o755}},
		Config: nodeimage.Config{Entrypoint: []string{"/hello"}, User: "65534:65534"},
	})
}

// RealNodeSelector and RealNodeTolerations place a pod on the real node:
// the only node with the label, the only one with the taint.
func RealNodeSelector() map[string]string {
	return map[string]string{RealNodeLabel: RealNodeLabelValue}
}

// RealNodeTolerations: see RealNodeSelector.
func RealNodeTolerations() []corev1.Toleration {
	return []corev1.Toleration{{Key: RealNodeTaint, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
}

// HelloPod is a pod "hello" of HelloImage on the real node, as restricted
// as Pod Security's "restricted" level asks, with an HTTP readiness probe.
func HelloPod(ns string) *corev1.Pod {
	no, yes := false, true
	grace := int64(10)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: ns, Labels: map[string]string{"app": "hello"}},
		Spec: corev1.PodSpec{
			NodeSelector:                 RealNodeSelector(),
			Tolerations:                  RealNodeTolerations(),
			AutomountServiceAccountToken: &no,
			// A graceful deletion: the pod object goes once the kubelet
			// has stopped its container (SIGTERM ends hello at once).
			TerminationGracePeriodSeconds: &grace,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   &yes,
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: "hello", Image: HelloImage, ImagePullPolicy: corev1.PullNever,
				Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(8080)}},
					PeriodSeconds: 1,
				},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: &no,
					ReadOnlyRootFilesystem:   &yes,
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}
