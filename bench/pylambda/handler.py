# The contender of measurement 4: a CloudFront-invalidation Lambda handler of
# the kind offload replaces, as such handlers are commonly written. S3
# invokes it with its event notification; for every record it sends one
# CreateInvalidation of the object's path, with the time as CallerReference.
# The client is made once per execution environment, at import: the better
# of the two habits such handlers have (the other makes one per invocation).
import os
import time

import boto3

cloudfront = boto3.client("cloudfront")
DISTRIBUTION_ID = os.environ["DISTRIBUTION_ID"]


def lambda_handler(event, context):
    for record in event["Records"]:
        path = "/" + record["s3"]["object"]["key"]
        cloudfront.create_invalidation(
            DistributionId=DISTRIBUTION_ID,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": [path]},
                "CallerReference": str(time.time()),
            },
        )
    return {"invalidated": len(event["Records"])}
