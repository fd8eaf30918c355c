// Package e2e holds ssokit's browser tests: examples/basic, built from
// this repository and run as a black box, signing people in through
// Chromium (driven over the DevTools protocol with chromedp) against the
// bundled fake provider, Dex and node-oidc-provider.
//
// The tests skip, saying how to run them, when Chromium, Dex or Node.js is
// missing, and fail instead when the environment variable CI is set.
// .ci/e2e.sh installs everything and runs them; README.md beside this file
// says how to run each test locally.
package e2e
