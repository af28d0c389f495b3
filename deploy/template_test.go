package deploy

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/offload-dev/offload/cache/lambdacache"
)

func loadTemplate(t *testing.T) *yaml.Node {
	t.Helper()
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("template.yaml does not parse: %v", err)
	}
	return doc.Content[0]
}

// get walks mapping keys.
func get(n *yaml.Node, path ...string) *yaml.Node {
	for _, k := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// strs returns a scalar or a sequence of scalars as strings.
func strs(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

func resource(t *testing.T, root *yaml.Node, name, typ string) *yaml.Node {
	t.Helper()
	r := get(root, "Resources", name)
	if r == nil {
		t.Fatalf("resource %s is not declared", name)
	}
	if got := get(r, "Type").Value; got != typ {
		t.Fatalf("%s: type %s, want %s", name, got, typ)
	}
	return get(r, "Properties")
}

// Every statement names its actions and resources: no "*" action, no
// service-wide "s3:*", no "*" resource. That the actions are the ones the
// function calls is TestIAMAllowsWhatTheFunctionCalls's to check.
func TestIAMIsLeastPrivilege(t *testing.T) {
	root := loadTemplate(t)
	fn := resource(t, root, "OffloadFunction", "AWS::Serverless::Function")
	for _, pol := range get(fn, "Policies").Content {
		for _, st := range get(pol, "Statement").Content {
			sid := get(st, "Sid").Value
			for _, a := range strs(get(st, "Action")) {
				if a == "*" || strings.HasSuffix(a, ":*") {
					t.Errorf("statement %s: action %q is a wildcard", sid, a)
				}
			}
			res := get(st, "Resource")
			if res == nil {
				t.Errorf("statement %s has no Resource", sid)
				continue
			}
			for _, r := range strs(res) {
				if r == "*" || r == "" && res.Tag == "" {
					t.Errorf("statement %s: resource %q is not scoped", sid, r)
				}
			}
			if res.Tag == "!Sub" && !strings.Contains(res.Value, "${") {
				t.Errorf("statement %s: resource %q names no parameter", sid, res.Value)
			}
		}
	}
	// The queue policy lets only this bucket, of this account, send.
	qp := resource(t, root, "EventQueuePolicy", "AWS::SQS::QueuePolicy")
	st := get(qp, "PolicyDocument", "Statement").Content[0]
	if get(st, "Condition", "ArnLike", "aws:SourceArn") == nil || get(st, "Condition", "StringEquals", "aws:SourceAccount") == nil {
		t.Error("the queue policy does not pin the source bucket and account")
	}
}

// functionActions returns the actions the function's policies allow.
func functionActions(t *testing.T, root *yaml.Node) []string {
	fn := resource(t, root, "OffloadFunction", "AWS::Serverless::Function")
	var actions []string
	for _, pol := range get(fn, "Policies").Content {
		for _, st := range get(pol, "Statement").Content {
			if get(st, "Effect").Value == "Allow" {
				actions = append(actions, strs(get(st, "Action"))...)
			}
		}
	}
	slices.Sort(actions)
	return slices.Compact(actions)
}

func TestEveryResourceTheCodeNeeds(t *testing.T) {
	root := loadTemplate(t)
	fn := resource(t, root, "OffloadFunction", "AWS::Serverless::Function")
	globals := get(root, "Globals", "Function")
	for k, want := range map[string]string{"Runtime": "provided.al2023", "Handler": "bootstrap"} {
		if got := get(globals, k).Value; got != want {
			t.Errorf("function %s: got %q, want %q", k, got, want)
		}
	}
	if got := strs(get(globals, "Architectures")); !slices.Equal(got, []string{"arm64"}) {
		t.Errorf("architectures: %v", got)
	}
	if get(fn, "AutoPublishAlias") == nil {
		t.Error("no AutoPublishAlias: deployments would not publish versions")
	}
	sqs := get(fn, "Events", "Changes", "Properties")
	if !slices.Contains(strs(get(sqs, "FunctionResponseTypes")), "ReportBatchItemFailures") {
		t.Error("the SQS source does not report batch item failures: one bad record would redeliver the whole batch")
	}
	if get(sqs, "BatchSize") == nil || get(sqs, "MaximumBatchingWindowInSeconds") == nil {
		t.Error("the SQS source sets no batch size or batching window")
	}
	// The warm-up schedule sends what the cache's handler wrapper treats as a ping.
	warm := get(fn, "Events", "WarmUp", "Properties")
	if input := get(warm, "Input"); input == nil || !lambdacache.IsWarmupPing([]byte(input.Value)) {
		t.Errorf("the warm-up schedule's input is not a warm-up ping the code recognises: %v", input)
	}
	q := resource(t, root, "EventQueue", "AWS::SQS::Queue")
	if get(q, "RedrivePolicy", "deadLetterTargetArn") == nil || get(q, "RedrivePolicy", "maxReceiveCount") == nil {
		t.Error("the event queue has no dead-letter redrive")
	}
	resource(t, root, "DeadLetterQueue", "AWS::SQS::Queue")
	ledger := resource(t, root, "Ledger", "AWS::DynamoDB::Table")
	key := get(ledger, "KeySchema").Content[0]
	if get(key, "AttributeName").Value != "pk" || get(key, "KeyType").Value != "HASH" {
		t.Error("the ledger table's key is not pk, as ledger/dynamo expects")
	}
	bucket := resource(t, root, "SiteBucket", "AWS::S3::Bucket")
	var events []string
	for _, qc := range get(bucket, "NotificationConfiguration", "QueueConfigurations").Content {
		events = append(events, get(qc, "Event").Value)
	}
	if !slices.Contains(events, "s3:ObjectCreated:*") || !slices.Contains(events, "s3:ObjectRemoved:*") {
		t.Errorf("bucket notifications: %v, want creations and removals", events)
	}
	api := resource(t, root, "ControlApi", "AWS::Serverless::HttpApi")
	if get(api, "DefaultRouteSettings", "ThrottlingRateLimit") == nil || get(api, "Auth", "DefaultAuthorizer") == nil {
		t.Error("the HTTP API has no throttling or no authorizer")
	}
	if get(api, "StageVariables", "offloadConfig") == nil {
		t.Error("the stage does not name its configuration (stage variable offloadConfig)")
	}
	for _, alarm := range []string{"ErrorsAlarm", "ThrottlesAlarm", "DurationAlarm", "DeadLetterAlarm", "InboxAgeAlarm"} {
		resource(t, root, alarm, "AWS::CloudWatch::Alarm")
	}
}
