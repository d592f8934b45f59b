"""``packjit.patch_transformers`` / ``packjit.unpatch_transformers``: aliases
of ``packjit.integrations.transformers.patch`` / ``unpatch``, which route
every unpadding entry point of the installed transformers
(``_get_unpad_data``, ``prepare_fa_kwargs_from_position_ids``) through
packjit. Kept for code written before ``packjit.integrations`` existed.
"""

from .integrations._hf_patch import patch as patch_transformers
from .integrations._hf_patch import unpatch as unpatch_transformers

__all__ = ["patch_transformers", "unpatch_transformers"]
