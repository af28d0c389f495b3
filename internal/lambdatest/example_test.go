package lambdatest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/offload-dev/offload/internal/lambdatest"
)

// A test builds the bootstrap (lambdatest.Build) and invokes it as Lambda
// would, with the environment the function needs.
func Example() {
	rt, err := lambdatest.Start(lambdatest.Options{
		Path: "/tmp/build/bootstrap",
		Env:  []string{"AWS_ENDPOINT_URL=http://127.0.0.1:5000", "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing"},
	})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	resp, fnErr, err := rt.Invoke(context.Background(), []byte(`{"warmup": true}`), 3*time.Second)
	switch {
	case err != nil: // timed out, exited, init error
		fmt.Println("invocation failed:", err)
	case fnErr != nil: // the handler returned an error
		fmt.Printf("function error: %s\n", fnErr)
	default:
		fmt.Printf("response: %s\n", resp)
	}
	p := rt.Processes()[0]
	fmt.Println("cold start:", p.FirstAnswer)
}
