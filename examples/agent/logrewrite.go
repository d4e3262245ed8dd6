package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// indexHandler rewrites "inputs.pythond[0]" in records to the input's
// place in the configuration: the agent runs a pythond.Supervisor per
// input (so that a reload can replace one), and each numbers its only
// input 0 in the keys of its messages.
type indexHandler struct {
	slog.Handler
	to string // "inputs.pythond[3]"
}

func withPythondIndex(l *slog.Logger, index int) *slog.Logger {
	if index == 0 {
		return l
	}
	return slog.New(&indexHandler{Handler: l.Handler(), to: fmt.Sprintf("inputs.pythond[%d]", index)})
}

const pythondKey0 = "inputs.pythond[0]"

func (h *indexHandler) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, strings.ReplaceAll(r.Message, pythondKey0, h.to), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(h.attr(a))
		return true
	})
	return h.Handler.Handle(ctx, nr)
}

func (h *indexHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); strings.Contains(s, pythondKey0) {
			return slog.String(a.Key, strings.ReplaceAll(s, pythondKey0, h.to))
		}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && strings.Contains(err.Error(), pythondKey0) {
			return slog.String(a.Key, strings.ReplaceAll(err.Error(), pythondKey0, h.to))
		}
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]any, len(attrs))
		for i, g := range attrs {
			out[i] = h.attr(g)
		}
		return slog.Group(a.Key, out...)
	}
	return a
}

func (h *indexHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = h.attr(a)
	}
	return &indexHandler{Handler: h.Handler.WithAttrs(out), to: h.to}
}

func (h *indexHandler) WithGroup(name string) slog.Handler {
	return &indexHandler{Handler: h.Handler.WithGroup(name), to: h.to}
}
