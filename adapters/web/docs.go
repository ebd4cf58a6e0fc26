package web

import "net/http"

// docs serves the interactive API reference, rendered in the browser from /openapi.yaml.
func (s *Server) docs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tooken API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{margin:0}</style></head>
<body><redoc spec-url="/openapi.yaml"></redoc>
<script src="/static/redoc.standalone.js"></script></body></html>`))
}
