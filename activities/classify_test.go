package activities

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pod(name string, init bool, waiting string, restarts int32) corev1.Pod {
	cs := corev1.ContainerStatus{Name: "c", RestartCount: restarts}
	if waiting != "" {
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: waiting, Message: "details"}
	}
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if init {
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{cs}
	} else {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
	}
	return p
}

func TestClassifyPods(t *testing.T) {
	tests := []struct {
		name string
		pods []corev1.Pod
		want string // substring of the failure; "" = not failed
	}{
		{"running", []corev1.Pod{pod("a", false, "", 0)}, ""},
		{"still creating", []corev1.Pod{pod("a", false, "ContainerCreating", 0)}, ""},
		{"image pull back-off", []corev1.Pod{pod("a", false, "ImagePullBackOff", 0)}, "ImagePullBackOff"},
		{"bad image name in an init container", []corev1.Pod{pod("a", true, "InvalidImageName", 0)}, "InvalidImageName"},
		{"missing secret key", []corev1.Pod{pod("a", false, "CreateContainerConfigError", 0)}, "CreateContainerConfigError"},
		{"crash loop under the limit", []corev1.Pod{pod("a", false, "CrashLoopBackOff", 4)}, ""},
		{"crash loop past the limit", []corev1.Pod{pod("a", false, "CrashLoopBackOff", 5)}, "after 5 restarts"},
		{"one bad among good", []corev1.Pod{pod("a", false, "", 0), pod("b", false, "ErrImagePull", 0)}, "pod b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classifyPods(tt.pods, 5)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Fatalf("classifyPods = %q, want %q", got, tt.want)
			}
		})
	}
}

func rel(version int, status release.Status) *release.Release {
	return &release.Release{Version: version, Info: &release.Info{Status: status},
		Chart: &chart.Chart{Metadata: &chart.Metadata{Version: "0.1.0"}}, Config: map[string]any{"a": 1}}
}

func TestReleaseHistoryHelpers(t *testing.T) {
	hist := []*release.Release{rel(1, release.StatusSuperseded), rel(3, release.StatusPendingUpgrade), rel(2, release.StatusDeployed)}
	if n := newest(hist); n.Version != 3 {
		t.Fatalf("newest = %d", n.Version)
	}
	if d := lastDeployed(hist); d == nil || d.Version != 2 {
		t.Fatalf("lastDeployed = %v", d)
	}
	if d := lastDeployed([]*release.Release{rel(1, release.StatusPendingInstall)}); d != nil {
		t.Fatalf("a pending install has no deployed revision, got %d", d.Version)
	}
	r := rel(1, release.StatusDeployed)
	tests := []struct {
		name    string
		version string
		vals    map[string]any
		want    bool
	}{
		{"same (int and float compare equal)", "0.1.0", map[string]any{"a": 1.0}, true},
		{"other values", "0.1.0", map[string]any{"a": 2}, false},
		{"other chart version", "0.2.0", map[string]any{"a": 1}, false},
	}
	for _, tt := range tests {
		if got := sameRelease(r, tt.version, tt.vals); got != tt.want {
			t.Errorf("%s: sameRelease = %v", tt.name, got)
		}
	}
}
