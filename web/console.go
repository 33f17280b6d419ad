package web

import "net/http"

// routesConsole: the developer console (/console) and the operator
// console (/admin).
func (s *Server) routesConsole(mux *http.ServeMux) {
	mux.HandleFunc("GET /console", s.requireAccount(s.handleConsoleHome))
	mux.HandleFunc("GET /admin", s.requireStaff(s.handleAdminHome))
}

func (s *Server) handleConsoleHome(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "console_home", s.newView(r, "Developer console", nil))
}

func (s *Server) handleAdminHome(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "admin_home", s.newView(r, "Operator console", nil))
}
