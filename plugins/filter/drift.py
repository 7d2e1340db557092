"""Jinja filters for playbooks/drift.yml (thin wrappers over module_utils/drift_report.py).

    {{ hsa_plan | drift_report(siths_result, readiness_result, language='sv') }} -> report
    {{ report | drift_junit }}                                      -> JUnit XML (str)
    {{ report | drift_summary }}                                    -> drift.json (dict)
    {{ report | drift_text(hsa.summary, junit_path, json_path, language='sv') }} -> lines
"""

from __future__ import annotations

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.drift import (
    build_drift,
    render_junit,
    summary_json,
    summary_lines,
)


def _result(value):
    """A registered result that was skipped or undefined counts as 'did not run'."""
    if not isinstance(value, dict) or value.get("skipped"):
        return None
    return value


def drift_report(hsa, certificates=None, readiness=None, fail_on_expiring=True, generated=None,
                 language=None):
    """The drift report; its messages in ``language`` (webcert_language: sv or en)."""
    with use_language(language):
        return build_drift(_result(hsa), _result(certificates), _result(readiness),
                           fail_on_expiring=bool(fail_on_expiring), generated=generated)


def drift_text(report, hsa_summary=None, junit_path="", json_path="", language=None):
    """The lines the drift job prints at the end, in ``language``."""
    with use_language(language):
        return summary_lines(report, hsa_summary, junit_path, json_path)


def drift_junit(report, name="webcert-drift"):
    return render_junit(report, name)


def drift_summary(report):
    return summary_json(report)


class FilterModule:
    def filters(self):
        return {"drift_report": drift_report, "drift_junit": drift_junit,
                "drift_summary": drift_summary, "drift_text": drift_text}
