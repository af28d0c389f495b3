// Package awstest runs the real AWS API shapes that tests need on loopback: a
// moto_server per test package, an aws.Config that points the real SDK clients
// at it, a transport that counts API calls by operation, and a proxy that
// injects the failures moto cannot produce (throttling, access denied).
package awstest
