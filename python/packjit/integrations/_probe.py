"""Records the document boundaries that reached packjit's entry points.

:func:`packjit.integrations.transformers.check` needs proof that a model's
forward pass used packjit's boundaries, not merely that it ran. Every
entry point (the ``packjit_varlen`` attention, the patched
``_get_unpad_data`` and ``prepare_fa_kwargs_from_position_ids``) reports
its ``cu_seqlens`` here; outside :func:`recording` that is one ``None``
check.
"""

import contextlib

_records = None  # a list while recording, else None


def report(entry_point: str, cu_seqlens) -> None:
    if _records is not None:
        _records.append((entry_point, cu_seqlens.detach().cpu().tolist()))


@contextlib.contextmanager
def recording():
    """Yields the list of ``(entry_point, cu_seqlens as a list)`` reported
    inside the ``with`` block."""
    global _records
    previous, _records = _records, []
    try:
        yield _records
    finally:
        _records = previous
