package main

// runLambda is replaced by the Lambda bootstrap (lambda.go).
func runLambda() {}
