"""moto_server for xacct's census tests and benchmarks: the test launcher
(moto_server.py beside it, which adds the request-payment API) plus one
bulk call that creates many objects inside moto's own backend, so a bench can
hold 100,000 objects without 100,000 PutObject round trips.

    POST /_xacct/bulk-objects
    {"account": "111111111111", "bucket": "b", "prefix": "c/", "count": 100000,
     "kinds": [{"encryption": "aws:kms", "kms_key": "arn:...", "storage": "STANDARD"},
               {"encryption": "AES256", "storage": "GLACIER"}, ...]}

Object i is named PREFIX + i (7 digits) and takes kinds[i % len(kinds)]; each
holds one byte. The answer: {"objects": N, "seconds": S}.

Usage: python moto_bulk.py -H 127.0.0.1 -p PORT
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_server  # noqa: E402,F401  (the request-payment API)
from moto.moto_server.werkzeug_app import DomainDispatcherApplication  # noqa: E402
from moto.s3.models import s3_backends  # noqa: E402
from moto.server import main  # noqa: E402

PATH = "/_xacct/bulk-objects"


def bulk(spec):
    backend = s3_backends[spec["account"]]["aws"]
    kinds = spec.get("kinds") or [{}]
    prefix = spec.get("prefix", "")
    for i in range(int(spec["count"])):
        k = kinds[i % len(kinds)]
        backend.put_object(
            spec["bucket"],
            f"{prefix}{i:07d}",
            b"x",
            storage=k.get("storage"),
            encryption=k.get("encryption"),
            kms_key_id=k.get("kms_key"),
            bucket_key_enabled=k.get("bucket_key"),
            disable_notification=True,
        )
    return int(spec["count"])


_call = DomainDispatcherApplication.__call__


def _call_with_bulk(self, environ, start_response):
    if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        spec = json.loads(environ["wsgi.input"].read(length))
        start = time.monotonic()
        n = bulk(spec)
        body = json.dumps({"objects": n, "seconds": time.monotonic() - start}).encode()
        start_response(
            "200 OK",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]
    return _call(self, environ, start_response)


DomainDispatcherApplication.__call__ = _call_with_bulk

if __name__ == "__main__":
    main(sys.argv[1:])
