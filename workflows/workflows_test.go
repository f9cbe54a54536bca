package workflows

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
)

// a names the activities in mock expectations, as the workflows do.
var a *activities.Activities

func spec(engine string) store.Spec {
	s := store.Spec{Name: "shop", Generation: 1, Engine: engine, Host: "shop.example.com", Title: "Shop"}
	if engine == store.EngineMedusa {
		s.MedusaImage = "ghcr.io/acme/medusa:1.0.0"
	}
	return s
}

// phases records the phases written through UpdateStoreStatus.
type phases struct {
	mu   sync.Mutex
	got  []store.Phase
	msg  []string
	urls []string // the URL of each write that had one
}

func (p *phases) record(_ context.Context, u store.StatusUpdate) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u.Phase != "" {
		p.got = append(p.got, u.Phase)
		p.msg = append(p.msg, u.Message)
	}
	if u.URL != "" {
		p.urls = append(p.urls, u.URL)
	}
	return nil
}

func (p *phases) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := make([]string, len(p.got))
	for i, ph := range p.got {
		s[i] = string(ph)
	}
	return strings.Join(s, ",")
}

func newEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *phases) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(a)
	env.SetTestTimeout(30 * time.Second)
	p := &phases{}
	// Status writes are counted through p; their number varies by path.
	env.OnActivity(a.UpdateStoreStatus, mock.Anything, mock.Anything).Return(p.record).Maybe()
	return env, p
}

func permanent(msg, typ string) error { return temporal.NewNonRetryableApplicationError(msg, typ, nil) }

// expectCreateSteps sets one expectation per step; fail, when set, makes
// that activity fail permanently.
func expectCreateSteps(env *testsuite.TestWorkflowEnvironment, fail string) {
	ok := func(name string) bool { return fail != name }
	step := func(name string, fn any, okRet ...any) {
		c := env.OnActivity(fn, mock.Anything, mock.Anything)
		if ok(name) {
			c.Return(okRet...).Once()
		} else {
			errRet := append(append([]any{}, okRet[:len(okRet)-1]...), permanent(name+" broke", activities.ErrWorkloadFailed))
			c.Return(errRet...).Once()
		}
	}
	order := []string{"namespace", "credentials", "install", "wait"}
	stopAfter := len(order)
	for i, n := range order {
		if n == fail {
			stopAfter = i + 1
		}
	}
	calls := []func(){
		func() { step("namespace", a.CreateNamespace, nil) },
		func() { step("credentials", a.EnsureCredentials, activities.CredentialsResult{Created: true}, nil) },
		func() {
			step("install", a.InstallRelease, activities.InstallResult{Revision: 1, Status: "deployed", Action: "install"}, nil)
		},
		func() { step("wait", a.WaitReady, activities.WaitProgress{Ready: 2, Total: 2}, nil) },
	}
	for _, c := range calls[:stopAfter] {
		c()
	}
}

func TestCreateStoreHappyPath(t *testing.T) {
	for _, engine := range []string{store.EngineWooCommerce, store.EngineMedusa} {
		t.Run(engine, func(t *testing.T) {
			env, p := newEnv(t)
			expectCreateSteps(env, "")
			env.OnActivity(a.UninstallRelease, mock.Anything, mock.Anything).Return(nil).Never()
			env.OnActivity(a.DeleteNamespace, mock.Anything, mock.Anything).Return(activities.DeleteNamespaceResult{}, nil).Never()

			env.ExecuteWorkflow(CreateStore, CreateStoreInput{Spec: spec(engine)})
			if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
				t.Fatalf("workflow: completed=%v err=%v", env.IsWorkflowCompleted(), env.GetWorkflowError())
			}
			var res CreateStoreResult
			if err := env.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			if res.Phase != store.PhaseReady || res.URL != "http://shop.example.com" || res.Attempts != 1 {
				t.Fatalf("result %+v", res)
			}
			if got := p.String(); got != "provisioning,ready" {
				t.Fatalf("phases %s", got)
			}
			env.AssertExpectations(t)
		})
	}
}

func TestCreateStoreFailureCompensatesOnce(t *testing.T) {
	tests := []struct {
		fail          string
		wantUninstall bool
		wantDeleteNS  bool
	}{
		{"namespace", false, false},
		{"credentials", false, true},
		{"install", true, true},
		{"wait", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.fail, func(t *testing.T) {
			env, p := newEnv(t)
			expectCreateSteps(env, tt.fail)
			un := env.OnActivity(a.UninstallRelease, mock.Anything, mock.Anything).Return(nil)
			del := env.OnActivity(a.DeleteNamespace, mock.Anything, mock.Anything).Return(activities.DeleteNamespaceResult{Gone: true}, nil)
			if tt.wantUninstall {
				un.Once()
			} else {
				un.Never()
			}
			if tt.wantDeleteNS {
				del.Once()
			} else {
				del.Never()
			}
			// Nobody sends retry: the workflow ends as failed after the window.
			env.ExecuteWorkflow(CreateStore, CreateStoreInput{Spec: spec(store.EngineWooCommerce), Timeouts: Timeouts{RetryWindow: time.Hour}})
			err := env.GetWorkflowError()
			var app *temporal.ApplicationError
			if !errors.As(err, &app) || app.Type() != activities.ErrStoreFailed || !strings.Contains(app.Message(), tt.fail+" broke") {
				t.Fatalf("want a %s error with the reason, got %v", activities.ErrStoreFailed, err)
			}
			if got := p.String(); got != "provisioning,failed" {
				t.Fatalf("phases %s", got)
			}
			if !strings.Contains(p.msg[1], tt.fail+" broke") {
				t.Fatalf("failed without the reason: %q", p.msg[1])
			}
			env.AssertExpectations(t)
		})
	}
}

func TestCreateStoreRetrySignalStartsAgain(t *testing.T) {
	env, p := newEnv(t)
	// First attempt: WaitReady fails; second: everything succeeds.
	env.OnActivity(a.CreateNamespace, mock.Anything, mock.Anything).Return(nil).Twice()
	env.OnActivity(a.EnsureCredentials, mock.Anything, mock.Anything).Return(activities.CredentialsResult{}, nil).Twice()
	env.OnActivity(a.InstallRelease, mock.Anything, mock.Anything).Return(activities.InstallResult{}, nil).Twice()
	env.OnActivity(a.WaitReady, mock.Anything, mock.Anything).Return(activities.WaitProgress{}, permanent("pod crash-loops", activities.ErrWorkloadFailed)).Once()
	env.OnActivity(a.WaitReady, mock.Anything, mock.Anything).Return(activities.WaitProgress{Ready: 1, Total: 1}, nil).Once()
	env.OnActivity(a.UninstallRelease, mock.Anything, mock.Anything).Return(nil).Once()
	env.OnActivity(a.DeleteNamespace, mock.Anything, mock.Anything).Return(activities.DeleteNamespaceResult{Gone: true}, nil).Once()
	env.RegisterDelayedCallback(func() {
		prog := queryProgress(t, env)
		if prog.WaitingFor != SignalRetry || prog.Phase != store.PhaseFailed || prog.LastError != "pod crash-loops" {
			t.Errorf("while failed: %+v", prog)
		}
		env.SignalWorkflow(SignalRetry, nil)
	}, time.Hour)

	env.ExecuteWorkflow(CreateStore, CreateStoreInput{Spec: spec(store.EngineWooCommerce)})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res CreateStoreResult
	_ = env.GetWorkflowResult(&res)
	if res.Phase != store.PhaseReady || res.Attempts != 2 {
		t.Fatalf("result %+v", res)
	}
	if got := p.String(); got != "provisioning,failed,provisioning,ready" {
		t.Fatalf("phases %s", got)
	}
	env.AssertExpectations(t)
}

func TestCreateStoreCanceledDuringWaitCompensates(t *testing.T) {
	env, p := newEnv(t)
	env.OnActivity(a.CreateNamespace, mock.Anything, mock.Anything).Return(nil).Once()
	env.OnActivity(a.EnsureCredentials, mock.Anything, mock.Anything).Return(activities.CredentialsResult{}, nil).Once()
	env.OnActivity(a.InstallRelease, mock.Anything, mock.Anything).Return(activities.InstallResult{}, nil).Once()
	env.OnActivity(a.WaitReady, mock.Anything, mock.Anything).After(time.Hour).Return(activities.WaitProgress{}, nil).Once()
	env.OnActivity(a.UninstallRelease, mock.Anything, mock.Anything).Return(nil).Once()
	env.OnActivity(a.DeleteNamespace, mock.Anything, mock.Anything).Return(activities.DeleteNamespaceResult{Gone: true}, nil).Once()
	env.RegisterDelayedCallback(func() {
		if prog := queryProgress(t, env); prog.CurrentStep != StepWaitReady {
			t.Errorf("cancel sent during %q", prog.CurrentStep)
		}
		env.CancelWorkflow()
	}, time.Minute)

	env.ExecuteWorkflow(CreateStore, CreateStoreInput{Spec: spec(store.EngineMedusa)})
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("want canceled, got %v", err)
	}
	if got := p.String(); got != "provisioning,failed" {
		t.Fatalf("phases %s", got)
	}
	env.AssertExpectations(t)
}

func TestCreateStoreProgressQuery(t *testing.T) {
	env, _ := newEnv(t)
	env.OnActivity(a.CreateNamespace, mock.Anything, mock.Anything).Return(nil).Once()
	env.OnActivity(a.EnsureCredentials, mock.Anything, mock.Anything).Return(activities.CredentialsResult{}, nil).Once()
	env.OnActivity(a.InstallRelease, mock.Anything, mock.Anything).After(10*time.Minute).Return(activities.InstallResult{}, nil).Once()
	env.OnActivity(a.WaitReady, mock.Anything, mock.Anything).After(20*time.Minute).Return(activities.WaitProgress{}, nil).Once()

	type check struct {
		at      time.Duration
		current string
		done    []string
	}
	checks := []check{
		{5 * time.Minute, StepInstall, []string{StepRecord, StepNamespace, StepCredentials}},
		{15 * time.Minute, StepWaitReady, []string{StepRecord, StepNamespace, StepCredentials, StepInstall}},
	}
	for _, c := range checks {
		env.RegisterDelayedCallback(func() {
			prog := queryProgress(t, env)
			if prog.CurrentStep != c.current || prog.Phase != store.PhaseProvisioning || prog.Workflow != "create" || prog.Store != "shop" {
				t.Errorf("at %s: %+v", c.at, prog)
			}
			var done []string
			for _, s := range prog.Steps {
				if s.Status == StepDone {
					done = append(done, s.Name)
					if s.CompletedAt == nil || s.StartedAt.IsZero() {
						t.Errorf("at %s: step %s without timestamps", c.at, s.Name)
					}
				}
			}
			if strings.Join(done, ",") != strings.Join(c.done, ",") {
				t.Errorf("at %s: done %v, want %v", c.at, done, c.done)
			}
		}, c.at)
	}
	env.ExecuteWorkflow(CreateStore, CreateStoreInput{Spec: spec(store.EngineWooCommerce)})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	prog := queryProgress(t, env)
	if prog.Phase != store.PhaseReady || prog.CurrentStep != "" || len(prog.Steps) != 6 {
		t.Fatalf("at the end: %+v", prog)
	}
	env.AssertExpectations(t)
}

func TestCreateStoreRejectsInvalidSpec(t *testing.T) {
	env, p := newEnv(t)
	env.OnActivity(a.CreateNamespace, mock.Anything, mock.Anything).Return(nil).Never()
	bad := spec(store.EngineMedusa)
	bad.MedusaImage = ""
	env.ExecuteWorkflow(CreateStore, CreateStoreInput{Spec: bad})
	if p.String() != "" {
		t.Fatalf("an invalid spec wrote a status: %s", p)
	}
	var app *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &app) || app.Type() != activities.ErrInvalidSpec {
		t.Fatalf("want %s, got %v", activities.ErrInvalidSpec, err)
	}
	env.AssertExpectations(t)
}

func queryProgress(t *testing.T, env *testsuite.TestWorkflowEnvironment) Progress {
	t.Helper()
	v, err := env.QueryWorkflow(QueryProgress)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	var p Progress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCreateStoreRecordsTheURLTheReleaseServes: https when the release
// has TLS (the install reports its URL); http://<host> for an install
// result without URL (histories from before it was reported).
func TestCreateStoreRecordsTheURLTheReleaseServes(t *testing.T) {
	for _, tt := range []struct{ reported, want string }{
		{"https://shop.example.com", "https://shop.example.com"},
		{"http://shop.example.com", "http://shop.example.com"},
		{"", "http://shop.example.com"},
	} {
		t.Run(tt.want+"/"+tt.reported, func(t *testing.T) {
			env, p := newEnv(t)
			env.OnActivity(a.CreateNamespace, mock.Anything, mock.Anything).Return(nil).Once()
			env.OnActivity(a.EnsureCredentials, mock.Anything, mock.Anything).Return(activities.CredentialsResult{Created: true}, nil).Once()
			env.OnActivity(a.InstallRelease, mock.Anything, mock.Anything).Return(activities.InstallResult{Revision: 1, URL: tt.reported}, nil).Once()
			env.OnActivity(a.WaitReady, mock.Anything, mock.Anything).Return(activities.WaitProgress{Ready: 1, Total: 1}, nil).Once()
			env.ExecuteWorkflow(CreateStore, CreateStoreInput{Spec: spec(store.EngineWooCommerce)})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			var res CreateStoreResult
			if err := env.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			if res.URL != tt.want || len(p.urls) != 1 || p.urls[0] != tt.want {
				t.Fatalf("result URL %q, recorded %v, want %s", res.URL, p.urls, tt.want)
			}
		})
	}
}

// TestLongActivitiesHeartbeat: every activity that can run for long has a
// heartbeat timeout, so a store whose worker died moves again within
// seconds: 10 s for the waits, the namespace deletion and the Helm actions;
// quick ones end within 10 s, so a lost task is retried soon.
func TestLongActivitiesHeartbeat(t *testing.T) {
	env, _ := newEnv(t)
	seen := map[string]*activity.Info{}
	var mu sync.Mutex
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		mu.Lock()
		defer mu.Unlock()
		i := *info
		seen[info.ActivityType.Name] = &i
	})
	env.OnActivity(a.CreateNamespace, mock.Anything, mock.Anything).Return(nil).Once()
	env.OnActivity(a.EnsureCredentials, mock.Anything, mock.Anything).Return(activities.CredentialsResult{}, nil).Once()
	env.OnActivity(a.InstallRelease, mock.Anything, mock.Anything).Return(activities.InstallResult{Revision: 1}, nil).Once()
	env.OnActivity(a.WaitReady, mock.Anything, mock.Anything).Return(activities.WaitProgress{}, permanent("crash", activities.ErrWorkloadFailed)).Once()
	env.OnActivity(a.UninstallRelease, mock.Anything, mock.Anything).Return(nil).Once()
	env.OnActivity(a.DeleteNamespace, mock.Anything, mock.Anything).Return(activities.DeleteNamespaceResult{Gone: true}, nil).Once()
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, time.Hour) // end the wait for a retry
	env.ExecuteWorkflow(CreateStore, CreateStoreInput{Spec: spec(store.EngineWooCommerce)})
	long := map[string]time.Duration{"InstallRelease": 10 * time.Second, "UninstallRelease": 10 * time.Second,
		"WaitReady": 10 * time.Second, "DeleteNamespace": 10 * time.Second}
	for name, most := range long {
		info := seen[name]
		if info == nil {
			t.Fatalf("%s never ran", name)
		}
		if info.HeartbeatTimeout <= 0 || info.HeartbeatTimeout > most {
			t.Errorf("%s: heartbeat timeout %v, want at most %v", name, info.HeartbeatTimeout, most)
		}
	}
	for _, name := range []string{"CreateNamespace", "EnsureCredentials", "UpdateStoreStatus"} {
		info := seen[name]
		if info == nil {
			t.Fatalf("%s never ran", name)
		}
		if d := info.Deadline.Sub(info.StartedTime).Round(time.Second); d > 10*time.Second {
			t.Errorf("%s: start-to-close %v", name, d)
		}
	}
}
