// Package lambdatest runs a real Lambda bootstrap binary under a small
// emulator of the Lambda Runtime API (version 2018-06-01), so tests invoke
// the binary exactly as Lambda does: the process is started with the
// Lambda environment, it long-polls GET /runtime/invocation/next, and it
// answers with POST /runtime/invocation/{id}/response or /error (or
// /runtime/init/error before its first invocation).
//
// It stands in for the AWS runtime interface emulator, which cannot be
// installed here. What it reproduces, because tests depend on it:
//
//   - the next-invocation headers (Lambda-Runtime-Aws-Request-Id,
//     Lambda-Runtime-Deadline-Ms, Lambda-Runtime-Invoked-Function-Arn,
//     Lambda-Runtime-Trace-Id) and the 202 / 400 / 413 answers;
//   - a timeout: when the deadline passes without an answer the invocation
//     fails with ErrTimeout and the process is killed, as Lambda resets the
//     execution environment; the next Invoke is a cold start again;
//   - an init error, a runtime that exits (ExitError), and an error sent in
//     the response's trailers, as aws-lambda-go does when a streamed
//     response fails;
//   - the processes' cold starts, for measuring them.
//
// One invocation runs at a time unless AWS_LAMBDA_MAX_CONCURRENCY is set
// in Options.Env and Invoke is called concurrently.
package lambdatest
