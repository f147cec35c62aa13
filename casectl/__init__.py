"""casectl: a support center's case tracker, kept as YAML files in git."""

__version__ = "0.1.0"
