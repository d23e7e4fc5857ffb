"""moto_server for xacct's live tests, plus the bucket request-payment API.

moto 5.2.5 has no GetBucketRequestPayment / PutBucketRequestPayment (a GET
?requestPayment answers with a bucket listing). xacct reads Requester Pays on
the source bucket, so this launcher adds the two calls, stored per bucket,
then runs moto's own server. Nothing else is changed.

Usage: python moto_server.py -H 127.0.0.1 -p PORT
"""

import re
import sys

from moto.s3 import responses as s3_responses
from moto.server import main

PAYERS = {}
NS = "http://s3.amazonaws.com/doc/2006-03-01/"

_get = s3_responses.S3Response._bucket_response_get
_put = s3_responses.S3Response._bucket_response_put


def _bucket_response_get(self, bucket_name, querystring):
    if "requestPayment" in querystring:
        self.backend.get_bucket(bucket_name)  # NoSuchBucket as moto answers it
        payer = PAYERS.get(bucket_name, "BucketOwner")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<RequestPaymentConfiguration xmlns="{NS}"><Payer>{payer}</Payer>'
            "</RequestPaymentConfiguration>"
        )
        return 200, {"content-type": "application/xml"}, body
    return _get(self, bucket_name, querystring)


def _bucket_response_put(self, request, bucket_name, querystring):
    if "requestPayment" in querystring:
        self.backend.get_bucket(bucket_name)
        body = self.body.decode("utf-8") if isinstance(self.body, bytes) else self.body
        m = re.search(r"<Payer>([A-Za-z]+)</Payer>", body or "")
        PAYERS[bucket_name] = m.group(1) if m else "BucketOwner"
        return 200, {}, ""
    return _put(self, request, bucket_name, querystring)


s3_responses.S3Response._bucket_response_get = _bucket_response_get
s3_responses.S3Response._bucket_response_put = _bucket_response_put

if __name__ == "__main__":
    main(sys.argv[1:])
