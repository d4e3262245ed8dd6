package main

import (
	"net/http"
	"time"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/pythond"
	"github.com/collectkit/collectkit/scrape"
)

// routes adds the agent's own routes to mux. They get the checks of every
// write API route: loopback only unless allow_remote, and the token when
// one is set.
func (a *agent) routes(mux *http.ServeMux) {
	reg := newRegistry(a.components)
	mux.Handle("GET /metrics", a.handler.Protect(metricsHandler(reg)))
	a.status = newStatusPages(a.snapshot)
	mux.Handle("GET /v1/status", a.handler.Protect(http.HandlerFunc(a.status.ServeJSON)))
	mux.Handle("GET /status", a.handler.Protect(http.HandlerFunc(a.status.ServeHTML)))
}

// snapshot is the state the status pages show.
func (a *agent) snapshot() agentStatus {
	st := agentStatus{
		Version:     version,
		Started:     a.started,
		Now:         time.Now(),
		PointsTotal: a.points.Load(),
		LastErrors:  map[string][]httpapi.LastError{},
		Pythond:     []pythond.InputStatus{},
		Prom:        []scrape.Status{},
		Problems:    []string{},
	}
	if a.inputs != nil {
		running, problems := a.inputs.snapshot()
		st.Problems = append(st.Problems, problems...)
		for _, ri := range running {
			switch {
			case ri.sup != nil:
				st.Pythond = append(st.Pythond, ri.sup.Status().Inputs...)
			case ri.scr != nil:
				st.Prom = append(st.Prom, ri.scr.Status())
			}
		}
	}
	if a.out.fwd != nil {
		fs := a.out.fwd.sink.Status()
		st.Forwarder = &fs
	}
	for _, in := range a.handler.LastErrorInputs() {
		st.LastErrors[in] = a.handler.LastErrors(in)
	}
	return st
}

// components are the parts of the running agent that may export metrics.
func (a *agent) components() []any {
	cs := []any{a.handler}
	if a.out.fwd != nil {
		cs = append(cs, a.out.fwd.sink)
	}
	if a.inputs != nil {
		running, _ := a.inputs.snapshot()
		for _, ri := range running {
			switch {
			case ri.sup != nil:
				cs = append(cs, ri.sup)
			case ri.scr != nil:
				cs = append(cs, ri.scr)
			}
		}
	}
	return cs
}
