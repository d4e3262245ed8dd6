package main

import (
	"net/http"
)

// routes adds the agent's own routes to mux. They get the checks of every
// write API route: loopback only unless allow_remote, and the token when
// one is set.
func (a *agent) routes(mux *http.ServeMux) {
	reg := newRegistry(a.components)
	mux.Handle("GET /metrics", a.handler.Protect(metricsHandler(reg)))
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
