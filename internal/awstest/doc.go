// Package awstest runs the real AWS API shapes that tests need on loopback: a
// moto_server per test package, an aws.Config that points the real SDK clients
// at it (or the environment that points config.LoadDefaultConfig at it, for
// examples), a transport that counts API calls by operation, a proxy that
// injects the failures moto cannot produce (throttling, access denied, an
// answer lost after the work was done), a CloudFront endpoint that keeps the
// CallerReference promise moto does not, and a proxy that records the IAM
// actions of the calls through it.
package awstest
