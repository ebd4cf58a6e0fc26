// Package browser drives the dashboard in headless Chromium (chromedp) against the real server:
// the quickstart journey from sign-up to a revoked token, and a viewer's journey.
package browser
