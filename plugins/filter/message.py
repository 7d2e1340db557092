"""A message of the playbooks in the reader's language (Swedish by default).

    {{ 'hsa_check_mode' | webcert_siths.onboarding.message(webcert_language | default('sv')) }}
    {{ 'hsa_apply_report' | webcert_siths.onboarding.message('en', path=report_file) }}

The keys and their English text (the gettext msgid) are in
``plugins/module_utils/i18n/playbook_messages.py``; the Swedish is in the catalog.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    _,
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.playbook_messages import (
    MESSAGES,
)


def message(key, language="sv", **params):
    """The message ``key`` in ``language`` with its ``%(name)s`` placeholders filled."""
    if key not in MESSAGES:
        raise AnsibleFilterError(f"message: no message {key!r} (known: {', '.join(sorted(MESSAGES))})")
    try:
        with use_language(language or None):
            return _(MESSAGES[key], **params)
    except KeyError as exc:
        raise AnsibleFilterError(f"message {key!r} needs the parameter {exc.args[0]}") from None
    except ValueError as exc:  # an unknown language
        raise AnsibleFilterError(f"message: {exc}") from None


class FilterModule:
    def filters(self):
        return {"message": message}
