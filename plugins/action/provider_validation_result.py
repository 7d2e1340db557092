# Copyright: Webcert onboarding toolkit contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action: end a validation with its result, pointing at the user's description file.

The role ``hsa_validate`` prints every finding first and ends with this action. When the
description has errors, the task fails with the line naming the description and its first
error, and Ansible's "Origin" context shows the line of the user's file where that error
is (with a caret), not only the role's task file.
"""

from __future__ import annotations

import os
import re

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

MAX_CONTEXT_BYTES = 2 * 1024 * 1024
_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _steps(path: str) -> list:
    return [int(index) if index else key for index, key in _TOKEN.findall(path)]


def _deepest(data, path: str):
    """The value at ``path`` in ``data`` (e.g. ``people[3].given_name``), or the deepest
    container on the way when a step is missing."""
    node = data
    for step in _steps(path):
        in_list = isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node)
        in_dict = isinstance(step, str) and isinstance(node, dict) and step in node
        if not (in_list or in_dict):
            break
        child = node[step]
        if "ncrypt" in type(child).__name__ or child is None:
            # A vault value or null: point at its key (a key carries its line too).
            return next((k for k in node if k == step), node) if isinstance(step, str) else node
        node = child
    return node


class ActionModule(ActionBase):
    """See the module webcert_siths.onboarding.provider_validation_result."""

    _requires_connection = False
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        validation = args.get("result") or {}
        counts = validation.get("counts")
        if not isinstance(counts, dict):
            raise AnsibleActionFail(validation.get("msg") or
                                    "The provider description could not be validated.")
        if not counts.get("error"):
            result.update(changed=False, msg=args.get("success_msg") or "valid")
            return result
        lines = validation.get("lines") or {}
        message = lines.get("failure") or validation.get("msg") or "The description has errors."
        raise AnsibleActionFail(message, obj=self._origin(args.get("path"), validation))

    def _origin(self, root, validation):
        """A value loaded from the user's file at the first error (it carries the file and
        line for Ansible's error display), or None."""
        findings = [f for f in validation.get("findings") or [] if f.get("severity") == "error"]
        if not root or not findings:
            return None
        first = findings[0]
        if not first.get("path") or not first.get("line"):
            return None  # about a whole file (or a file that could not be read): no context
        full = os.path.join(root, first["file"]) if os.path.isdir(root) else root
        real_root = os.path.realpath(root)
        if not os.path.realpath(full).startswith(real_root):
            return None  # never read anything outside the description
        try:
            if os.path.getsize(full) > MAX_CONTEXT_BYTES:
                return None  # the message names file and line; not worth a second parse
        except OSError:
            return None
        try:
            data = self._loader.load_from_file(full, cache="none", unsafe=True)
            return _deepest(data, first["path"])
        except Exception:
            return None
