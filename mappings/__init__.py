"""Pure translation: the canonical Record, its validation, the access policy and every crosswalk.

Rule of this package: it imports nothing of ours and does no I/O (no network, no files, no clock;
the current time is always a parameter).
"""
