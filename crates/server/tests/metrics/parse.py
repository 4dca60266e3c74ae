"""Reads a /metrics page (Prometheus text format 0.0.4) on stdin with prometheus_client's parser
and prints its samples as JSON: [{"family", "type", "name", "labels", "value"}, ...]."""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families

samples = [
    {"family": family.name, "type": family.type, "name": s.name, "labels": s.labels, "value": s.value}
    for family in text_string_to_metric_families(sys.stdin.read())
    for s in family.samples
]
json.dump(samples, sys.stdout)
