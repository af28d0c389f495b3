# The contender of measurement 7: what `offload plan` does to an SQS batch of
# S3 notifications, in plain Python: json.loads of the batch and of each
# message's body, a dict keyed by object keeping each object's newest event
# (by sequencer), and the result printed as JSON. Usage: plan.py FILE
import json
import sys

with open(sys.argv[1], "rb") as f:
    batch = json.load(f)
latest = {}
for message in batch["Records"]:
    for record in json.loads(message["body"]).get("Records", []):
        s3, obj = record["s3"], record["s3"]["object"]
        seq = obj.get("sequencer", "")
        old = latest.get((s3["bucket"]["name"], obj["key"]))
        if old is None or (len(seq), seq) > (len(old["sequencer"]), old["sequencer"]):
            latest[(s3["bucket"]["name"], obj["key"])] = {
                "bucket": s3["bucket"]["name"], "key": obj["key"], "event": record["eventName"],
                "etag": obj.get("eTag", ""), "sequencer": seq, "message": message["messageId"]}
sys.stdout.write(json.dumps(list(latest.values())))
