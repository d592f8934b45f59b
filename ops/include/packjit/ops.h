// packjit's ops for C++ trainers. Each call goes through the PyTorch
// dispatcher, so CPU and CUDA tensors (and autograd, where it applies) work
// exactly as through torch.ops.packjit.* from Python. Semantics: docs/ops.md
// and docs/padding.md.
#pragma once

#include <ATen/Tensor.h>
#include <c10/util/Optional.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace packjit {

// For an indexed attention mask [B, S] (0 = padding, v > 0 = a token of
// document v of its row; bool = binary mask) returns
//   indices:    int64 [nnz], flat positions b*S+s of the non-zero entries;
//   cu_seqlens: int32 [D+1], 0 then the running sums of the document lengths;
//   max_seqlen_in_batch: the longest document (0 when there are no tokens).
// A document is a maximal run of equal non-zero values in a row, zeros
// dropped. strict: ids must be non-decreasing within each row. Negative ids
// are always an error.
std::tuple<at::Tensor, at::Tensor, int64_t>
get_unpad_data(const at::Tensor &attention_mask, bool strict = true);

// The document lengths in the same order: the mask's dtype for int64 and
// int32 masks, int32 otherwise.
at::Tensor get_seqlens_in_batch(const at::Tensor &attention_mask,
                                bool strict = true);

// get_unpad_data without a host sync, at fixed shapes (CUDA graphs): all
// three results stay on the mask's device.
//   indices:    int64 [B*S]: the nnz flat positions, then -1;
//   cu_seqlens: int32 [max_documents+1] (max_documents = -1: B*S): 0, the
//               running sums, then nnz repeated (empty documents); when
//               D > max_documents, the first max_documents+1 boundaries;
//   summary:    int64 [4]: nnz, D, max_seqlen_in_batch, and the flat
//               position of the first strict-mode violation or -1.
// On CUDA a violation is only reported in summary[3] (raising would need a
// sync) and the other results are then unspecified; on the CPU it raises as
// get_unpad_data does.
std::tuple<at::Tensor, at::Tensor, at::Tensor>
get_unpad_data_padded(const at::Tensor &attention_mask, bool strict = true,
                      int64_t max_documents = -1);

// The KernelSpec (canonical text) that get_unpad_data runs for this CUDA
// mask: template, dtype, constexprs, arch. Empty for CPU masks and builds
// without CUDA. For logs and `packjit demo`.
std::string get_unpad_data_kernel_spec(const at::Tensor &attention_mask,
                                       bool strict = true);

// False for no mask, bool masks and non-2-D masks; else whether any value > 1.
bool is_indexed_packed_mask(const c10::optional<at::Tensor> &attention_mask);

// Packing by position ids ([N], [1, N] or [B, S]): a sequence starts where the
// position equals the tensor's smallest position, and at each row start.
// Returns (cu_seqlens int32, max_seqlen). strict: positions inside a sequence
// must increase by exactly 1.
std::tuple<at::Tensor, int64_t>
cu_seqlens_from_position_ids(const at::Tensor &position_ids,
                             bool strict = true);

// Sync-free, fixed shapes (CUDA-graph capturable): cu_seqlens int32
// [max_documents+1] (max_documents -1: B*S), N after the D boundaries;
// summary int64 [4] = (N, D, max_seqlen, invalid). invalid is 1 when strict
// and a position inside a sequence is not the one before it + 1 (then the
// other results are unspecified; cu_seqlens_from_position_ids names the
// place); the CPU raises instead. D > max_documents means cu_seqlens holds
// only the first max_documents + 1 boundaries.
std::tuple<at::Tensor, at::Tensor>
cu_seqlens_from_position_ids_padded(const at::Tensor &position_ids,
                                    bool strict = true,
                                    int64_t max_documents = -1);

// unpad_input / pad_input: flash-attention's bert_padding gather and
// scatter (docs/padding.md), autograd-aware (each is the other's backward).
// Data dtypes: float32, float16, bfloat16, float64, int64, int32; indices
// int64. On the CPU an index out of range is an error; on CUDA (no sync to
// check) such a row reads as zeros (unpad) or is skipped (pad).

// hidden [B, S, ...] -> [nnz, ...]: row indices[i] of hidden viewed as
// [B*S, ...].
at::Tensor unpad_input(const at::Tensor &hidden, const at::Tensor &indices);

// x [nnz, ...] -> [batch, seqlen, ...], zero except at the rows `indices`.
at::Tensor pad_input(const at::Tensor &x, const at::Tensor &indices,
                     int64_t batch, int64_t seqlen);

// unpad_input of each tensor (e.g. q, k, v) with the same indices.
std::vector<at::Tensor> unpad_inputs(at::TensorList hidden,
                                     const at::Tensor &indices);

// flash-attention's unpad_input(hidden, attention_mask) from one
// get_unpad_data: (hidden_unpad, indices, cu_seqlens, max_seqlen_in_batch,
// used_seqlens), used_seqlens being the tokens of each row (int32 [B]).
std::tuple<at::Tensor, at::Tensor, at::Tensor, int64_t, at::Tensor>
unpad_input_from_mask(const at::Tensor &hidden,
                      const at::Tensor &attention_mask, bool strict = true);

// Context parallelism (docs/context_parallel.md): TransformerEngine's THD
// rule. Every padded length cu_seqlens_padded[d+1] - cu_seqlens_padded[d]
// must be a multiple of 2*cp_size (cu_seqlens_padded int32 or int64, [D+1],
// starting at 0); document d is cut into 2*cp_size equal chunks and rank
// cp_rank keeps chunk cp_rank then chunk 2*cp_size-1-cp_rank. Returns
//   indices:          int64 [cu_seqlens_padded[D] / cp_size], the rank's
//                     positions in the padded THD buffer, document after
//                     document;
//   cu_seqlens_local: int32 [D+1], cu_seqlens_padded / cp_size;
//   max_seqlen_local: the longest padded length / cp_size.
// On CUDA one sync (the rank's token count lives on the device).
std::tuple<at::Tensor, at::Tensor, int64_t>
context_parallel_partition(const at::Tensor &cu_seqlens_padded,
                           int64_t cp_size, int64_t cp_rank);

// Sync-free, fixed shapes (CUDA-graph capturable): indices int64
// [total_tokens / cp_size] (-1 after the rank's tokens), cu_seqlens_local,
// and summary int64 [3] = (cu_seqlens_padded[D], max_seqlen_local, the
// first bad document or -1). On CUDA a bad document is only reported there
// (the other results are then unspecified); the CPU raises instead.
std::tuple<at::Tensor, at::Tensor, at::Tensor>
context_parallel_partition_padded(const at::Tensor &cu_seqlens_padded,
                                  int64_t cp_size, int64_t cp_rank,
                                  int64_t total_tokens);

// ---- packing_metadata (docs/ops.md "packing_metadata") ----

// Every consumer's view of one packed batch, from one pass over the mask or
// the position ids (one host sync on CUDA). D documents of lengths L_d, nnz
// kept tokens; every tensor owns exactly its bytes, on the input's device.
struct PackingMetadata {
  at::Tensor indices;           // int64 [nnz]: flat positions b*S+s kept
  at::Tensor cu_seqlens;        // int32 [D+1]: 0, running sums of L_d
  int64_t max_seqlen = 0;       // max L_d, 0 when D == 0
  at::Tensor seqlens;           // int32 [D]: L_d
  at::Tensor seq_idx;           // int32 [nnz]: the document d of each token
  at::Tensor position_ids;      // int64 [nnz]: 0..L_d-1 within each document
  at::Tensor cu_seqlens_padded; // int32 [D+1]: running sums of L_d rounded
                                // up to a multiple of pad_to
};

// Documents: those of get_unpad_data (attention_mask) or of
// cu_seqlens_from_position_ids (position_ids [N], [B, S], or [4, B, S] as
// transformers packs multimodal positions: row 0, the text positions); with
// position ids alone every token is kept (indices = arange(nnz)). Both
// given: the documents come from the mask, and in strict mode the position
// ids must restart (equal their smallest kept value) exactly at the tokens
// where a mask document starts. strict also refuses a document that crosses
// the end of a row (docs/ops.md). pad_to >= 1.
PackingMetadata
packing_metadata(const c10::optional<at::Tensor> &attention_mask,
                 const c10::optional<at::Tensor> &position_ids = c10::nullopt,
                 int64_t pad_to = 1, bool strict = true);

// packing_metadata without a host sync, at fixed shapes (CUDA graphs), for
// at most max_documents documents (-1: N = the tokens of the input). With M
// = max_documents and N tokens in all:
//   indices [N] int64: the nnz kept positions, then -1;
//   cu_seqlens [M+1], cu_seqlens_padded [M+1] int32: the first min(D, M)+1
//     boundaries, then the last of them repeated;
//   seqlens [M] int32: L_d, then 0;
//   seq_idx [N] int32: d for the tokens of document d < M, then M (every
//     position past cu_seqlens[M]: the padding tail counts as one more
//     document);
//   position_ids [N] int64: k - cu_seqlens[seq_idx[k]] (the tail counts
//     0, 1, ... like a document);
//   summary [5] int64: nnz, D, max_seqlen, overflow (1 when D > M: the
//     fields then hold only the first M documents), violation (1 when a
//     strict check failed on CUDA: the other fields are then unspecified;
//     packing_metadata names the place; the CPU raises instead).
struct PackingMetadataPadded {
  at::Tensor indices;
  at::Tensor cu_seqlens;
  at::Tensor seqlens;
  at::Tensor seq_idx;
  at::Tensor position_ids;
  at::Tensor cu_seqlens_padded;
  at::Tensor summary;
};

PackingMetadataPadded packing_metadata_padded(
    const c10::optional<at::Tensor> &attention_mask,
    const c10::optional<at::Tensor> &position_ids = c10::nullopt,
    int64_t max_documents = -1, int64_t pad_to = 1, bool strict = true);

// ---- end packing_metadata ----

} // namespace packjit
