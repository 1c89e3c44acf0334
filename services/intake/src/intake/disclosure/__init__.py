"""Disclosure: which organisation accepted a case, the minimum disclosure to it, and the
hash-chained provision records of every release."""
