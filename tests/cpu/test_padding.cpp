// unpad_input / pad_input / unpad_inputs / unpad_input_from_mask on the CPU:
// against index_select and index_put on random data for every dtype, odd row
// widths, strided and misaligned views; autograd; errors.
#include "test_support.h"

#include "packjit/ops.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/autograd.h>

#include "../support/padding_data.h"

#include <catch2/catch.hpp>

using Catch::Contains;

namespace {

using packjit::test::kDataDTypes;
using packjit::test::randomData;

// `count` distinct row numbers in [0, rows), in random order.
at::Tensor randomIndices(int64_t rows, int64_t count) {
  return at::randperm(rows, at::kLong).slice(0, 0, count);
}

at::Tensor referenceUnpad(const at::Tensor &hidden, const at::Tensor &indices) {
  return hidden.flatten(0, 1).index_select(0, indices);
}

at::Tensor referencePad(const at::Tensor &x, const at::Tensor &indices,
                        int64_t batch, int64_t seqlen) {
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape[0] = batch * seqlen;
  at::Tensor out = at::zeros(shape, x.options());
  out.index_put_({indices}, x);
  shape.erase(shape.begin());
  shape.insert(shape.begin(), {batch, seqlen});
  return out.view(shape);
}

} // namespace

TEST_CASE("unpad_input gathers rows of [B*S, ...]; pad_input puts them back "
          "between zero rows",
          "[padding]") {
  at::Tensor hidden = at::arange(12, at::kFloat).view({2, 3, 2});
  at::Tensor indices = at::tensor(std::vector<int64_t>{0, 2, 4});
  at::Tensor unpadded = packjit::unpad_input(hidden, indices);
  CHECK(unpadded.sizes() == at::IntArrayRef({3, 2}));
  CHECK(at::equal(
      unpadded, at::tensor(std::vector<float>{0, 1, 4, 5, 8, 9}).view({3, 2})));
  at::Tensor padded = packjit::pad_input(unpadded, indices, 2, 3);
  CHECK(padded.sizes() == at::IntArrayRef({2, 3, 2}));
  CHECK(at::equal(
      padded, at::tensor(std::vector<float>{0, 1, 0, 0, 4, 5, 0, 0, 8, 9, 0, 0})
                  .view({2, 3, 2})));
}

TEST_CASE("unpad_input and pad_input match index_select and index_put for "
          "every dtype and row shape",
          "[padding][random]") {
  at::manual_seed(6);
  const std::vector<std::vector<int64_t>> rowShapes = {
      {}, {1}, {3}, {7, 5}, {2, 3, 4}, {8, 128}};
  for (at::ScalarType dtype : kDataDTypes) {
    for (const auto &rowShape : rowShapes) {
      CAPTURE(dtype, rowShape);
      std::vector<int64_t> shape = {3, 17};
      shape.insert(shape.end(), rowShape.begin(), rowShape.end());
      at::Tensor hidden = randomData(shape, dtype);
      at::Tensor indices = randomIndices(51, 29);
      at::Tensor unpadded = packjit::unpad_input(hidden, indices);
      CHECK(unpadded.scalar_type() == dtype);
      CHECK(at::equal(unpadded, referenceUnpad(hidden, indices)));
      at::Tensor padded = packjit::pad_input(unpadded, indices, 3, 17);
      CHECK(at::equal(padded, referencePad(unpadded, indices, 3, 17)));
    }
  }
}

TEST_CASE("strided, transposed and misaligned inputs give the same results",
          "[padding][strides]") {
  at::manual_seed(7);
  for (at::ScalarType dtype : kDataDTypes) {
    CAPTURE(dtype);
    at::Tensor indices = randomIndices(4 * 9, 20);
    // q of a packed qkv [B, S, 3, H, D]: rows 3*H*D apart.
    at::Tensor qkv = randomData({4, 9, 3, 2, 5}, dtype);
    at::Tensor q = qkv.select(2, 1);
    CHECK(at::equal(packjit::unpad_input(q, indices),
                    referenceUnpad(q, indices)));
    // Trailing dims transposed, and [S, B, ...] transposed to [B, S, ...].
    at::Tensor t = randomData({4, 9, 5, 3}, dtype).transpose(2, 3);
    CHECK(at::equal(packjit::unpad_input(t, indices),
                    referenceUnpad(t, indices)));
    at::Tensor sb = randomData({9, 4, 6}, dtype).transpose(0, 1);
    CHECK(at::equal(packjit::unpad_input(sb, indices),
                    referenceUnpad(sb, indices)));
    // A view one element into its storage: misaligned for vector copies.
    at::Tensor flat = randomData({4 * 9 * 7 + 1}, dtype);
    at::Tensor shifted = flat.slice(0, 1).view({4, 9, 7});
    CHECK(at::equal(packjit::unpad_input(shifted, indices),
                    referenceUnpad(shifted, indices)));
    // pad_input of strided and misaligned x.
    at::Tensor x = randomData({20, 3, 7}, dtype).select(1, 2);
    CHECK(at::equal(packjit::pad_input(x, indices, 4, 9),
                    referencePad(x, indices, 4, 9)));
    at::Tensor xs = randomData({20 * 7 + 1}, dtype).slice(0, 1).view({20, 7});
    CHECK(at::equal(packjit::pad_input(xs, indices, 4, 9),
                    referencePad(xs, indices, 4, 9)));
  }
}

TEST_CASE("empty inputs: no indices, empty rows, empty batch",
          "[padding][edge]") {
  at::Tensor none = at::empty({0}, at::kLong);
  at::Tensor hidden = at::randn({2, 3, 4});
  CHECK(packjit::unpad_input(hidden, none).sizes() == at::IntArrayRef({0, 4}));
  at::Tensor padded = packjit::pad_input(at::empty({0, 4}), none, 2, 3);
  CHECK(at::equal(padded, at::zeros({2, 3, 4})));
  at::Tensor indices = at::tensor(std::vector<int64_t>{1, 5});
  CHECK(packjit::unpad_input(at::empty({2, 3, 0}), indices).sizes() ==
        at::IntArrayRef({2, 0}));
  CHECK(packjit::pad_input(at::empty({0, 4}), none, 0, 5).sizes() ==
        at::IntArrayRef({0, 5, 4}));
}

TEST_CASE("unpad_inputs gathers each tensor as unpad_input does",
          "[padding][many]") {
  at::manual_seed(8);
  at::Tensor indices = randomIndices(2 * 10, 13);
  std::vector<at::Tensor> hidden = {randomData({2, 10, 4, 8}, at::kBFloat16),
                                    randomData({2, 10, 2, 8}, at::kBFloat16),
                                    randomData({2, 10, 3}, at::kFloat)};
  std::vector<at::Tensor> out = packjit::unpad_inputs(hidden, indices);
  REQUIRE(out.size() == 3);
  for (size_t i = 0; i < 3; ++i)
    CHECK(at::equal(out[i], referenceUnpad(hidden[i], indices)));
}

TEST_CASE("unpad_input_from_mask returns flash-attention's unpad_input tuple",
          "[padding][mask]") {
  at::Tensor mask =
      packjit::test::makeMask({{1, 1, 2, 2, 2, 0}, {1, 2, 2, 3, 3, 3}});
  at::Tensor hidden = at::randn({2, 6, 3, 4});
  auto [unpadded, indices, cuSeqlens, maxSeqlen, used] =
      packjit::unpad_input_from_mask(hidden, mask);
  CHECK(packjit::test::toVector(indices) ==
        std::vector<int64_t>{0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11});
  CHECK(packjit::test::toVector(cuSeqlens) ==
        std::vector<int64_t>{0, 2, 5, 6, 8, 11});
  CHECK(maxSeqlen == 3);
  CHECK(used.scalar_type() == at::kInt);
  CHECK(packjit::test::toVector(used) == std::vector<int64_t>{5, 6});
  CHECK(at::equal(unpadded, referenceUnpad(hidden, indices)));
  CHECK_THROWS_WITH(
      packjit::unpad_input_from_mask(hidden, mask.slice(1, 0, 5)),
      Contains("attention_mask should be [batch, seqlen] = [2, 6]"));
}

TEST_CASE("autograd: the backward of each op is the other's gather or scatter",
          "[padding][autograd]") {
  at::manual_seed(9);
  at::Tensor indices = randomIndices(3 * 5, 8);
  at::Tensor hidden = at::randn({3, 5, 2, 3}, at::kDouble).requires_grad_();
  at::Tensor weight = at::randn({8, 2, 3}, at::kDouble);
  at::Tensor loss = (packjit::unpad_input(hidden, indices) * weight).sum();
  loss.backward();
  CHECK(at::allclose(hidden.grad(), referencePad(weight, indices, 3, 5)));

  at::Tensor x = at::randn({8, 2, 3}, at::kDouble).requires_grad_();
  at::Tensor padWeight = at::randn({3, 5, 2, 3}, at::kDouble);
  (packjit::pad_input(x, indices, 3, 5) * padWeight).sum().backward();
  CHECK(at::allclose(x.grad(), referenceUnpad(padWeight, indices)));

  // unpad_inputs: one gradient per input.
  at::Tensor k = at::randn({3, 5, 4}, at::kDouble).requires_grad_();
  at::Tensor v = at::randn({3, 5, 1}, at::kDouble).requires_grad_();
  std::vector<at::Tensor> kv = packjit::unpad_inputs({k, v}, indices);
  (kv[0].sum() + 2 * kv[1].sum()).backward();
  CHECK(at::allclose(
      k.grad(), referencePad(at::ones({8, 4}, at::kDouble), indices, 3, 5)));
  CHECK(at::allclose(v.grad(), referencePad(at::full({8, 1}, 2.0, at::kDouble),
                                            indices, 3, 5)));

  // Double backward: the gradient of the gradient goes through the ops too.
  at::Tensor h = at::randn({3, 5, 2}, at::kDouble).requires_grad_();
  at::Tensor out = packjit::unpad_input(h, indices);
  at::Tensor g = at::randn({8, 2}, at::kDouble).requires_grad_();
  at::Tensor gradH = torch::autograd::grad({out}, {h}, {g}, true, true)[0];
  at::Tensor gg = at::randn({3, 5, 2}, at::kDouble);
  at::Tensor gradG = torch::autograd::grad({gradH}, {g}, {gg})[0];
  CHECK(at::allclose(gradG, referenceUnpad(gg, indices)));
}

TEST_CASE("repeated indices: unpad_input's gradient sums them as "
          "index_select's does; pad_input refuses them",
          "[padding][autograd][duplicates]") {
  // The hostile user's case: h.grad was [1, 0], index_select's is [2, 0].
  at::Tensor h = at::ones({1, 2, 1}, at::kDouble).requires_grad_();
  packjit::unpad_input(h, at::tensor(std::vector<int64_t>{0, 0}))
      .sum()
      .backward();
  CHECK(h.grad().flatten().equal(at::tensor(std::vector<double>{2, 0})));

  at::manual_seed(4);
  const at::Tensor repeated =
      at::tensor(std::vector<int64_t>{3, 0, 3, 14, 7, 0, 3});
  at::Tensor hidden = at::randn({3, 5, 2}, at::kDouble).requires_grad_();
  at::Tensor reference = hidden.detach().clone().requires_grad_();
  at::Tensor weight = at::randn({7, 2}, at::kDouble);
  (packjit::unpad_input(hidden, repeated) * weight).sum().backward();
  (referenceUnpad(reference, repeated) * weight).sum().backward();
  CHECK(at::allclose(hidden.grad(), reference.grad()));
  // unpad_inputs sums the same way, per input.
  at::Tensor k = at::randn({3, 5, 4}, at::kDouble).requires_grad_();
  packjit::unpad_inputs({k}, repeated)[0].sum().backward();
  CHECK(k.grad().flatten(0, 1).select(1, 0).equal(
      at::bincount(repeated, {}, 15).to(at::kDouble)));

  // pad_input: which of two rows would land in one output row? Neither.
  at::Tensor x = at::randn({3, 2}, at::kDouble);
  const at::Tensor twice = at::tensor(std::vector<int64_t>{4, 1, 4});
  const char *message = "packjit.pad_input: indices[2] = 4 repeats indices[0]; "
                        "pad_input writes each output row once, so its "
                        "indices should be distinct";
  CHECK_THROWS_WITH(packjit::pad_input(x, twice, 2, 3), Contains(message));
  CHECK_THROWS_WITH(packjit::pad_input(x.requires_grad_(), twice, 2, 3),
                    Contains(message));
  // An output far larger than the indices is checked without a row bitmap.
  CHECK_THROWS_WITH(packjit::pad_input(x, twice, int64_t{1} << 40, 3),
                    Contains(message));
}

TEST_CASE("padding errors name the op and the problem", "[padding][errors]") {
  at::Tensor hidden = at::randn({2, 3, 4});
  at::Tensor indices = at::tensor(std::vector<int64_t>{0, 6});
  CHECK_THROWS_WITH(
      packjit::unpad_input(hidden, indices),
      Contains("packjit.unpad_input: indices[1] = 6 is out of range [0, 6)"));
  CHECK_THROWS_WITH(
      packjit::unpad_input(hidden, at::tensor(std::vector<int64_t>{-1})),
      Contains("indices[0] = -1 is out of range"));
  CHECK_THROWS_WITH(
      packjit::pad_input(at::randn({2, 4}), indices, 2, 3),
      Contains("packjit.pad_input: indices[1] = 6 is out of range [0, 6)"));
  CHECK_THROWS_WITH(packjit::unpad_input(hidden, indices.to(at::kInt)),
                    Contains("indices should be an int64 tensor, got Int"));
  CHECK_THROWS_WITH(packjit::unpad_input(hidden, indices.view({1, 2})),
                    Contains("indices should be a 1-D tensor, got 2-D"));
  CHECK_THROWS_WITH(
      packjit::unpad_input(hidden.to(at::kBool), indices),
      Contains("hidden should be float32, float16, bfloat16, float64, "
               "int64 or int32, got Bool"));
  CHECK_THROWS_WITH(
      packjit::unpad_input(at::randn({6}), indices),
      Contains(
          "hidden should be [batch, seqlen, ...] (at least 2-D), got 1-D"));
  CHECK_THROWS_WITH(packjit::pad_input(at::randn({3, 4}), indices, 2, 3),
                    Contains("indices has 2 entries but x has 3 rows"));
  CHECK_THROWS_WITH(packjit::pad_input(at::randn({2, 4}), indices, -1, 3),
                    Contains("batch and seqlen should not be negative"));
  CHECK_THROWS_WITH(packjit::pad_input(at::randn({2, 4}), indices,
                                       int64_t{1} << 33, int64_t{1} << 30),
                    Contains("packjit.pad_input: batch*seqlen overflows int64 "
                             "(batch=8589934592, seqlen=1073741824)"));
  CHECK_THROWS_WITH(
      packjit::unpad_inputs({hidden, at::randn({5, 1, 4})},
                            at::tensor(std::vector<int64_t>{0, 5})),
      Contains("packjit.unpad_inputs: indices[1] = 5 is out of range [0, 5)"));
}
