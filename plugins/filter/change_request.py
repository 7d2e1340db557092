"""The HSA plan that hsa_reconcile returns, as the Markdown change request (for CI).

``{{ hsa_reconcile_result.plan | webcert_siths.onboarding.hsa_plan_markdown(webcert_language) }}``
renders the plan of a directory run the way the ombud mode renders its change request
(hsa_baseline's ``plan_markdown``): grouped per object, HSA Admin's field names, only the
delta of multi-valued fields. The plan of a directory run knows no names for entries it
only modifies: they are shown with their HSA-id.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

try:
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.change_request import (
        build_change_request,
        plan_from_dict,
        render_request_markdown,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
        use_language,
    )

    IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - shown to the user
    IMPORT_ERROR = exc


def hsa_plan_markdown(plan: dict, language: str = "sv", provider_name: str = "",
                      provider_id: str = "") -> str:
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError(f"hsa_plan_markdown: {IMPORT_ERROR}")
    if not isinstance(plan, dict):
        raise AnsibleFilterError("hsa_plan_markdown expects the plan dict hsa_reconcile returns")
    try:
        with use_language(language):
            request = build_change_request(plan_from_dict(plan), meta={
                "provider_name": provider_name, "provider_id": provider_id})
            return render_request_markdown(request)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"hsa_plan_markdown: not a plan from hsa_reconcile ({exc})") from exc


class FilterModule:
    def filters(self):
        return {"hsa_plan_markdown": hsa_plan_markdown}
