"""Documentation of the language option every toolkit module that writes for people has."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  language:
    description:
      - Language of everything the module writes for people (messages, fixes, reports).
        V(sv) is Swedish, in the words of HSA Admin, Webcert and Inera's guide; V(en) is English.
      - Playbooks pass the variable C(webcert_language) here (default V(sv)).
      - Technical details (HSA attribute names, playbooks, YAML fields) are in a separate
        part of each finding for IT, in both languages.
    type: str
    choices: [sv, en]
    default: sv
"""
