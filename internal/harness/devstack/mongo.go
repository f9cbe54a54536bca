package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// startFerretDB runs an embedded FerretDB (MongoDB wire protocol over
// SQLite) in this process. It stands in for MongoDB locally because no
// mongod can be installed here; production uses any MongoDB via MONGODB_URI.
func (s *Stack) startFerretDB(ctx context.Context) error {
	if len(s.opts.FerretDBCommand) > 0 {
		return s.startFerretDBProcess(ctx)
	}
	dir := s.path("ferretdb") + "/"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	logFile, err := os.OpenFile(s.path("logs", "ferretdb.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:" + strconv.Itoa(s.opts.MongoPort)},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir,
		Logger:    slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		logFile.Close()
		return fmt.Errorf("ferretdb: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer logFile.Close()
		_ = f.Run(runCtx)
	}()
	s.stopFerret = func() {
		cancel()
		<-done
	}
	// MongoDBURI waits until the listener is bound.
	s.mongoURI = f.MongoDBURI()
	if s.mongoURI == "" {
		return errors.New("ferretdb: no listener address")
	}
	return nil
}

// MongoURI is the connection string of the embedded FerretDB.
func (s *Stack) MongoURI() string { return s.mongoURI }
