# A minimal Lambda Runtime API client (2018-06-01) for the Python contender
# of measurement 4, in the standard library only: AWS's runtime interface
# client, awslambdaric, cannot be installed here. It imports the handler
# named by _HANDLER ("module.function") from LAMBDA_TASK_ROOT, then loops:
# GET .../invocation/next, call the handler, POST its JSON result to
# .../response, or the exception to .../error.
import importlib
import json
import os
import sys
import traceback
import urllib.request

API = "http://%s/2018-06-01/runtime" % os.environ["AWS_LAMBDA_RUNTIME_API"]


def post(path, body, headers=None):
    req = urllib.request.Request(API + path, data=json.dumps(body).encode(), method="POST")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req) as resp:
        resp.read()


def error(e):
    return {"errorMessage": str(e), "errorType": type(e).__name__,
            "stackTrace": traceback.format_exception(e)}


class Context:
    def __init__(self, headers):
        self.aws_request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0"))
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")


def main():
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    module, _, name = os.environ["_HANDLER"].rpartition(".")
    try:
        handler = getattr(importlib.import_module(module), name)
    except Exception as e:
        post("/init/error", error(e), {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"})
        sys.exit(1)
    while True:
        with urllib.request.urlopen(API + "/invocation/next") as resp:
            ctx = Context(resp.headers)
            event = json.loads(resp.read())
        try:
            result = handler(event, ctx)
        except Exception as e:
            post("/invocation/%s/error" % ctx.aws_request_id, error(e),
                 {"Lambda-Runtime-Function-Error-Type": "Unhandled"})
            continue
        post("/invocation/%s/response" % ctx.aws_request_id, result)


if __name__ == "__main__":
    main()
