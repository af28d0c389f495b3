// Package childproc holds what the tests' helpers set on the servers they
// start as processes (moto, MinIO, Varnish, nats-server, a Lambda
// bootstrap): the one part of it that differs by system.
package childproc
