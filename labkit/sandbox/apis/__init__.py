"""The API's vocabulary, shared by every layer: which resources are served, Status errors,
names and uids, label and field selectors, defaulting, and strict field validation against
the real API types.
"""
