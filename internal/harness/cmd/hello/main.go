// Command hello is the real node's smoke workload: a static HTTP server that
// answers GET / with "hello from <hostname>" (the pod's name) on $PORT
// (8080), so that a test sees a container really started and a Service
// really routed to it.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
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
	log.Printf("hello: serving on :%s as %s", port, host)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
