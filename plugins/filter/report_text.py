"""Jinja filters for text the playbooks print (in webcert_language).

    {{ result.plan_text | webcert_siths.onboarding.text_excerpt(200, 'reports/hsa-plan.txt', 'sv') }}
        -> the first 200 lines, then "… och N rader till, se reports/hsa-plan.txt"
"""

from __future__ import annotations

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.terminal import (
    excerpt,
)


def text_excerpt(text, limit=200, path=None, language=None):
    with use_language(language):
        return excerpt(str(text or ""), int(limit), path)


class FilterModule:
    def filters(self):
        return {"text_excerpt": text_excerpt}
