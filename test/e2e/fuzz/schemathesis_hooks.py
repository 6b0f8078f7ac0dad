"""Schemathesis hooks for the supernode's fuzz suite (test/e2e/fuzz/openapi-fuzz.test.ts).

The wire schemas require well-formed Unicode without NUL (core/wire: the pattern
^(?:[^\\u0000\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$). Schemathesis cannot use that
pattern (it warns "Unsupported regex patterns" and drops it), so its "positive" cases may carry
a NUL or a lone surrogate that the schema forbids; the supernode rightly answers 400, which the
positive_data_acceptance check would report as a schema-valid request rejected. Such cases are
not schema-valid: drop them. Negative cases keep them, so the 400 for bad strings stays tested.
"""

import re

import schemathesis
from schemathesis.generation import GenerationMode

# A NUL, or a UTF-16 surrogate code point (Python keeps a lone \\udXXX escape of JSON as one).
_ILL_FORMED = re.compile("[\x00\ud800-\udfff]")


def _ill_formed(value):
    if isinstance(value, str):
        return _ILL_FORMED.search(value) is not None
    if isinstance(value, dict):
        return any(_ill_formed(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_ill_formed(v) for v in value)
    return False


@schemathesis.hook
def filter_case(ctx, case):
    meta = getattr(case, "meta", None)
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return True
    return not any(_ill_formed(part) for part in (case.body, case.query, case.path_parameters))
