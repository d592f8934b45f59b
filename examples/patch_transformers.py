"""Route transformers' flash-attention unpadding through packjit.

NeMo Automodel and LlamaFactory monkey-patch
transformers.modeling_flash_attention_utils._get_unpad_data with a Python
loop over document ids (3 launches per id, 4 host syncs). One call replaces
it with packjit's single pass. Run with python/ on PYTHONPATH.
"""

import torch

import packjit


def main():
    mask = torch.tensor([[1, 1, 2, 2, 2, 0], [1, 2, 2, 3, 3, 3]])
    if torch.cuda.is_available():
        mask = mask.cuda()
    try:
        import transformers.modeling_flash_attention_utils as fa_utils
    except ImportError:
        print("transformers is not installed; calling packjit directly")
        print(packjit.get_unpad_data(mask))
        return
    print("patched", packjit.patch_transformers(), "module(s)")
    indices, cu_seqlens, max_seqlen = fa_utils._get_unpad_data(mask)
    print("indices   ", indices.tolist())
    print("cu_seqlens", cu_seqlens.tolist())
    print("max_seqlen", max_seqlen)
    packjit.unpatch_transformers()


if __name__ == "__main__":
    main()
