package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server timeouts: a client that sends its headers or body too slowly,
// or reads the response too slowly, is cut off.
const (
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds reading a whole request.
	ReadTimeout = 30 * time.Second
	// WriteTimeout bounds serving a request once its headers are read.
	WriteTimeout = 30 * time.Second
	// IdleTimeout bounds how long a kept-alive connection waits for its
	// next request.
	IdleTimeout = 120 * time.Second
	// ShutdownTimeout bounds how long requests in flight may finish
	// after the context is cancelled.
	ShutdownTimeout = 10 * time.Second
)

// newServer returns a server of h with the package's timeouts.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
	}
}

// Serve serves h on addr until ctx is cancelled, then shuts down
// gracefully: it stops accepting connections and waits up to
// ShutdownTimeout for requests in flight. When h is a *Server, Serve also
// runs its drift monitoring (Server.Run) and stops it after the shutdown.
// It returns nil after a clean shutdown.
func Serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", addr, err)
	}
	if s, ok := h.(*Server); ok {
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := s.Run(runCtx); err != nil {
				s.h.log.Warn("drift monitoring not started", "error", err.Error())
			}
		}()
		defer func() {
			stop()
			<-done
		}()
	}
	return serve(ctx, ln, newServer(h))
}

// serve runs srv on ln until ctx is cancelled.
func serve(ctx context.Context, ln net.Listener, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shut down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
