#!/usr/bin/env python3
"""openapi_check.py OPENAPI BODY METHOD PATH_TEMPLATE STATUS: the response body conforms to the
schema the OpenAPI document gives for that operation and status (exit 1 with the reason if not)."""
import json
import sys

import jsonschema

doc = json.load(open(sys.argv[1]))
body_file, method, template, status = sys.argv[2], sys.argv[3].lower(), sys.argv[4], sys.argv[5]
op = doc["paths"].get(template, {}).get(method)
if op is None:
    sys.exit(f"openapi: no operation {method.upper()} {template}")
response = op["responses"].get(status)
if response is None:
    sys.exit(f"openapi: {method.upper()} {template} does not document status {status}")
content = response.get("content", {})
if "application/json" not in content:
    sys.exit(0 if content else f"openapi: {method.upper()} {template} {status} has no body schema")
schema = dict(content["application/json"]["schema"])
schema["components"] = doc["components"]  # lets "#/components/schemas/X" resolve
try:
    body = json.load(open(body_file))
except ValueError as e:
    sys.exit(f"response of {method.upper()} {template} ({status}) is not JSON: {e}")
validator = jsonschema.Draft202012Validator(schema)
errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
if errors:
    e = errors[0]
    sys.exit(f"{method.upper()} {template} {status}: {'/'.join(map(str, e.path))}: {e.message}")
