package stack

import (
	"path/filepath"
	"time"

	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/harness/childproc"
)

// Lines the platform's commands log once they serve.
const (
	apiUp    = "api listening"
	workerUp = "worker polling"
)

// StartAPI runs `storeplatform api` of binDir with cfg as its environment,
// its output appended to logDir/<name>.log; APIReady waits for it.
func StartAPI(name string, cfg config.Config, binDir, logDir string) (*childproc.Process, error) {
	return childproc.Start(name, filepath.Join(logDir, name+".log"), apiUp, cfg.Environ(), filepath.Join(binDir, "storeplatform"), "api")
}

// APIReady waits until the API p says it listens and its /health answers
// at cfg.ListenAddr.
func APIReady(p *childproc.Process, cfg config.Config) error {
	if err := p.WaitUp(2 * time.Minute); err != nil {
		return err
	}
	return childproc.WaitHTTP("http://"+cfg.ListenAddr+"/health", time.Minute)
}

// StartWorker runs `storeplatform worker` of binDir with cfg as its
// environment, its output appended to logDir/<log>.log; the caller waits
// for it with WaitUp.
func StartWorker(name, log string, cfg config.Config, binDir, logDir string) (*childproc.Process, error) {
	return childproc.Start(name, filepath.Join(logDir, log+".log"), workerUp, cfg.Environ(), filepath.Join(binDir, "storeplatform"), "worker")
}
