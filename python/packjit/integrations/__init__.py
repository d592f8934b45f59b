"""Drop-ins for trainers: ``packjit.integrations.transformers`` (a
``DataCollatorWithFlattening`` drop-in, the unpadding patch, the
``packjit_varlen`` attention and a probe that proves the wiring) and
``packjit.integrations.automodel`` (NeMo Automodel's packing module
contract). Both import transformers; this package itself does not.
Guide: docs/integrations.md.
"""
