// Typed launches: arguments are checked against the kernel's parameters
// before the driver is touched, so this runs without a GPU.
#include "packjit/core/error.h"
#include "packjit/runtime/launch.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <cstring>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;

TEST_CASE("a launch with the wrong arguments names them and the kernel's",
          "[runtime][launch]") {
  const Kernel kernel = unloadedKernel();
  CHECK_THROWS_WITH(
      launch(kernel, {1}, {256}, nullptr, {KernelArg::pointer(CUdeviceptr{0})}),
      "launch of 'add_one': 1 arguments for 2 parameters; it takes (%data: "
      "pointer, %n: i32), got (pointer)");
  CHECK_THROWS_WITH(
      launch(kernel, {1}, {256}, nullptr,
             {KernelArg::pointer(CUdeviceptr{0}), KernelArg::i64(4)}),
      "launch of 'add_one': argument 2 (%n) is i32, got i64; it takes "
      "(%data: pointer, %n: i32), got (pointer, i64)");
  CHECK_THROWS_WITH(launch(kernel, {1}, {256}, nullptr,
                           {KernelArg::i32(4), KernelArg::i32(4)}),
                    Catch::Contains("argument 1 (%data) is pointer, got i32"));
}

TEST_CASE("a KernelArg holds the value's bytes at its width",
          "[runtime][launch]") {
  // What the driver reads: the parameter's width from data().
  auto bytes = [](const KernelArg &arg, auto value) {
    std::memcpy(&value, arg.data(), sizeof value);
    return value;
  };
  KernelArg wide = KernelArg::i64(-2);
  CHECK(wide.kind() == ParamKind::I64);
  CHECK(bytes(wide, int64_t{}) == -2);
  KernelArg narrow = KernelArg::i32(-7);
  CHECK(narrow.kind() == ParamKind::I32);
  CHECK(bytes(narrow, int32_t{}) == -7);
  CHECK(bytes(KernelArg::i16(-3), int16_t{}) == -3);
  CHECK(bytes(KernelArg::i8(-4), int8_t{}) == -4);
  int object = 0;
  KernelArg address = KernelArg::pointer(&object);
  CHECK(address.kind() == ParamKind::Pointer);
  CHECK(bytes(address, CUdeviceptr{}) ==
        reinterpret_cast<CUdeviceptr>(&object));
  CHECK(bytes(KernelArg::f32(1.5f), float{}) == 1.5f);
  CHECK(bytes(KernelArg::f64(-0.25), double{}) == -0.25);
}

TEST_CASE("a launch of more arguments than the driver call takes says so",
          "[runtime][launch]") {
  Kernel kernel = unloadedKernel();
  kernel.params.assign(65, KernelParam{"p", ParamKind::I64});
  const std::vector<KernelArg> args(65, KernelArg::i64(0));
  CHECK_THROWS_WITH(launch(kernel, {1}, {256}, nullptr, args),
                    Catch::Contains("65 arguments, more than the 64 a launch "
                                    "can pass"));
}
