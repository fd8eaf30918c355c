// Package benchcompare measures ssokit beside other Go OIDC and JOSE
// libraries on the same work (issue 7): verifying a realistic ID token
// (RS256, PS256, ES256) and a whole callback (token request, verification,
// claims decoding), each next to the standard-library floor of
// internal/benchkit in the same benchmark function, so one run gives the
// ratios. It has no code of its own outside its tests; see README.md for
// the figures and how to reproduce them.
package benchcompare
