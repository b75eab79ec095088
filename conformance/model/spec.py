"""The one OpenAI spec revision every schema and check in this package is traced to.

The schemas under ``conformance/schemas`` were written from the facts of this revision; reports name it so a
reader knows exactly which contract a verdict was judged against.
"""

OPENAI_SPEC_REPO = "openai/openai-openapi"
OPENAI_SPEC_COMMIT = "f85dbe223d40e1a31cba812ab2d755c7e98a92a3"
OPENAI_SPEC_DATE = "2026-08-21"
OPENAI_SPEC_LABEL = f"openai-openapi@{OPENAI_SPEC_COMMIT[:7]}"
