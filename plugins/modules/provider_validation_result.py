#!/usr/bin/python
# Copyright: Webcert onboarding toolkit contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the action webcert_siths.onboarding.provider_validation_result."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: provider_validation_result
short_description: End a validation of the provider description, pointing at the user's file
description:
  - Takes the registered result of M(webcert_siths.onboarding.provider_validate). Without
    errors it succeeds with O(success_msg).
  - With errors it fails with the line that names the description and its first error,
    and Ansible's error context (C(Origin)) shows the line of the user's description file
    where that error is, with a caret.
  - The file is read again only for that context, only when it lies inside the description
    and is at most 2 MB; a file that could not be read or parsed gets no context.
  - This is an action that runs on the controller; the role M(webcert_siths.onboarding.hsa_validate)
    uses it as its last task.
version_added: "1.1.0"
author:
  - Webcert onboarding toolkit contributors (!UNKNOWN)
options:
  result:
    description: The registered result of M(webcert_siths.onboarding.provider_validate).
    type: dict
    required: true
  path:
    description: The description (file or folder) that was validated.
    type: path
    required: true
  success_msg:
    description: The message when there is no error.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.conn
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  become:
    support: none
  check_mode:
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode),
      when in diff mode.
    support: none
  connection:
    support: none
  delegation:
    support: none
  platform:
    support: full
    platforms: all
notes:
  - The action never changes anything.
"""

EXAMPLES = r"""
- name: Validate the provider description
  webcert_siths.onboarding.provider_validate:
    path: provider
  register: validation
  failed_when: false

- name: Fail with the first error, pointing at the user's file
  webcert_siths.onboarding.provider_validation_result:
    result: "{{ validation }}"
    path: provider
    success_msg: The description is valid.
"""

RETURN = r"""
msg:
  description: O(success_msg) or, on failure, the line naming the description and its first error.
  returned: always
  type: str
"""
