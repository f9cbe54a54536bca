// Command hello is the real node's smoke workload: a static HTTP server on
// $PORT (8080) that answers GET / with "hello from <hostname>" (the pod's
// name), so that a test sees a container really started and a Service
// really routed to it, and GET /resolve?name=N with the addresses the pod's
// resolver finds for N, so that it sees the cluster's DNS answer in a pod.
// With $DATA_DIR set (a volume's mount), PUT /data/{name} stores the body in
// the file name there and GET /data/{name} answers it, so that a test sees a
// volume keep what a pod wrote. GET /dial?addr=HOST:PORT answers 200 when a
// TCP connection to addr opens within 3 s, 502 with the error otherwise, so
// that a test sees what NetworkPolicy lets the pod reach.
package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	host, err := os.Hostname()
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", host)
	})
	http.HandleFunc("GET /resolve", func(w http.ResponseWriter, r *http.Request) {
		addrs, err := net.DefaultResolver.LookupHost(r.Context(), r.URL.Query().Get("name"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		sort.Strings(addrs)
		fmt.Fprintln(w, strings.Join(addrs, " "))
	})
	http.HandleFunc("GET /dial", func(w http.ResponseWriter, r *http.Request) {
		addr := r.URL.Query().Get("addr")
		conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn.Close()
		fmt.Fprintf(w, "connected to %s\n", addr)
	})
	if dir := os.Getenv("DATA_DIR"); dir != "" {
		http.HandleFunc("PUT /data/{name}", func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, filepath.Base(r.PathValue("name"))), body, 0o644)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
		http.HandleFunc("GET /data/{name}", func(w http.ResponseWriter, r *http.Request) {
			http.ServeFile(w, r, filepath.Join(dir, filepath.Base(r.PathValue("name"))))
		})
	}
	log.Printf("hello: serving on :%s as %s", port, host)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
