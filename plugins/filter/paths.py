"""Path filters for the playbooks.

Ansible runs local modules with the playbook's folder as their working directory, so a
path the operator gives relative to where they run ``ansible-playbook`` (``-e
hsa_ldap_ca_file=files/ca.pem``) must be made absolute on the controller first.
``ansible.builtin.realpath`` does that but turns an empty value into the current folder;
``abspath_if_set`` leaves empty and missing values alone so ``default(omit, true)`` still
works after it.
"""

from __future__ import annotations

import os


def abspath_if_set(value):
    """Absolute path of a non-empty string (relative to the controller's cwd); else as is."""
    if isinstance(value, str) and value.strip():
        return os.path.abspath(os.path.expanduser(value))
    return value


class FilterModule:
    def filters(self):
        return {"abspath_if_set": abspath_if_set}
