"""HSDS 3.0: the register as Open Referral documents (import, export, read endpoints) and its taxonomies."""
