// Command fn is a Lambda function for the emulator's own tests: what it
// does depends on the payload it is sent.
package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Echo  string `json:"echo"`
	Sleep string `json:"sleep"` // sleeps, ignoring the deadline
	Error string `json:"error"`
	Exit  *int   `json:"exit"`
	Panic string `json:"panic"`
}

type response struct {
	Echo       string `json:"echo"`
	RequestID  string `json:"requestId"`
	ARN        string `json:"arn"`
	DeadlineIn int64  `json:"deadlineInMs"`
	Function   string `json:"function"`
	Memory     int    `json:"memory"`
	PID        int    `json:"pid"`
}

func handle(ctx context.Context, req request) (*response, error) {
	switch {
	case req.Sleep != "":
		d, _ := time.ParseDuration(req.Sleep)
		time.Sleep(d)
	case req.Error != "":
		return nil, errors.New(req.Error)
	case req.Exit != nil:
		os.Exit(*req.Exit)
	case req.Panic != "":
		panic(req.Panic)
	}
	lc, _ := lambdacontext.FromContext(ctx)
	dl, _ := ctx.Deadline()
	return &response{Echo: req.Echo, RequestID: lc.AwsRequestID, ARN: lc.InvokedFunctionArn,
		DeadlineIn: time.Until(dl).Milliseconds(), Function: lambdacontext.FunctionName,
		Memory: lambdacontext.MemoryLimitInMB, PID: os.Getpid()}, nil
}

func main() {
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if msg := os.Getenv("FN_INIT_ERROR"); msg != "" {
		req, _ := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error",
			strings.NewReader(`{"errorMessage":"`+msg+`","errorType":"Fn.InitFailed"}`))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Fn.InitFailed")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			os.Exit(resp.StatusCode - 200) // 2 when accepted (202)
		}
		os.Exit(1)
	}
	if s := os.Getenv("FN_EXIT_AT_START"); s != "" {
		code, _ := strconv.Atoi(s)
		os.Exit(code)
	}
	if s := os.Getenv("FN_INIT_SLEEP"); s != "" {
		d, _ := time.ParseDuration(s)
		time.Sleep(d)
	}
	lambda.Start(handle)
}
