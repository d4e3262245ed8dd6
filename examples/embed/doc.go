// Command embed shows collectkit inside an application that already has an
// HTTP server: DataKit's write API is mounted under /datakit/ on the
// application's own mux, next to its own routes, and every accepted point
// goes to a custom point.Sink that keeps per-measurement counts, served at
// /stats.
//
//	go run ./examples/embed -listen 127.0.0.1:8080
//	curl -X POST --data-binary 'cpu,host=a usage=1' http://127.0.0.1:8080/datakit/v1/write/metric
//	curl http://127.0.0.1:8080/stats
package main
