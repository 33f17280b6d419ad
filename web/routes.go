package web

import "net/http"

// routes builds the main mux (everything but the per-app origins). Each
// surface lists its own routes in one function.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	s.routesOps(mux)
	s.routesAuth(mux)
	s.routesConsole(mux)
	s.routesAPIDev(mux)
	s.routesAPIAdmin(mux)
	s.routesHost(mux)
	s.routesIdentity(mux)
	s.routesQR(mux)
	s.routesPay(mux)
	s.routesDiscovery(mux)
	s.routesOpenAPI(mux)
	s.routesDev(mux)
	mux.HandleFunc("/", s.noRoute(mux))
	return mux
}

// routesOps: health, readiness, metrics and static assets.
func (s *Server) routesOps(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /static/{hash}/{name...}", s.serveStatic)
}

// routesAuth: first-run setup, console sign-in and sign-out.
func (s *Server) routesAuth(mux *http.ServeMux) {
	mux.HandleFunc("GET /setup", s.handleSetupForm)
	mux.HandleFunc("POST /setup", s.handleSetup)
	mux.HandleFunc("GET /signin", s.handleSigninForm)
	mux.HandleFunc("POST /signin", s.handleSignin)
	mux.HandleFunc("POST /signout", s.handleSignout)
}
