package helmclient

import (
	"context"
	"fmt"
	"net/http"

	"k8s.io/client-go/rest"
)

// Fence tells whether the caller may still change the cluster: nil while
// it holds what guards the release (activities' release lease), the reason
// once it does not. It is asked before every write request, so it must be
// cheap and must not block.
type Fence func() error

type fenceKey struct{}

// WithFence returns ctx carrying f. Every write request (anything but GET,
// HEAD and OPTIONS) that a Runner's action started with the returned ctx
// sends to the API server is first put to f and refused when f refuses:
// release records (the Secrets of Helm's storage driver) and the chart's
// objects alike. (The Runner does not give Helm ctx's cancellation, so no
// write of an action outlives the call that started it; see installed.)
//
// It does not make a write conditional on the server: a request that
// passed f and was then held up (the process paused between the check and
// the request reaching the API server) still lands. f must therefore
// refuse some margin before another holder can take over. Reads are never
// fenced.
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// fenceOf is the Fence ctx carries, or nil.
func fenceOf(ctx context.Context) Fence {
	f, _ := ctx.Value(fenceKey{}).(Fence)
	return f
}

// fenced is cfg with a transport that puts every write to f; cfg itself
// when f is nil. The wrapper sits above client-go's shared TLS transport,
// so fenced actions still share the Runner's connections.
func fenced(cfg *rest.Config, f Fence) *rest.Config {
	if f == nil {
		return cfg
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &fencedTransport{next: rt, fence: f} })
	return cfg
}

type fencedTransport struct {
	next  http.RoundTripper
	fence Fence
}

// RoundTrip refuses a write the fence refuses, before sending it.
func (t *fencedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if err := t.fence(); err != nil {
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, fmt.Errorf("refused %s %s: %w", req.Method, req.URL.Path, err)
		}
	}
	return t.next.RoundTrip(req)
}
