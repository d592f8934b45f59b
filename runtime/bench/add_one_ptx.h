// A hand-written PTX kernel for GPU tests and the launch benchmark, so that
// they need no compiler: add_one(int32 *data, uint32 n) adds 1 to data[i]
// for every i < n, one thread each; and its contract.
#pragma once

namespace packjit::runtime {

inline constexpr const char *kAddOneEntry = "packjit_add_one";
inline constexpr const char *kAddOnePtx = R"(
.version 7.0
.target sm_80
.address_size 64

.visible .entry packjit_add_one(
    .param .u64 data,
    .param .u32 n
)
{
    .reg .pred %p<2>;
    .reg .b32 %r<8>;
    .reg .b64 %rd<5>;

    ld.param.u64 %rd1, [data];
    ld.param.u32 %r1, [n];
    mov.u32 %r2, %ctaid.x;
    mov.u32 %r3, %ntid.x;
    mov.u32 %r4, %tid.x;
    mad.lo.s32 %r5, %r2, %r3, %r4;
    setp.ge.u32 %p1, %r5, %r1;
    @%p1 bra DONE;
    cvta.to.global.u64 %rd2, %rd1;
    mul.wide.u32 %rd3, %r5, 4;
    add.s64 %rd4, %rd2, %rd3;
    ld.global.u32 %r6, [%rd4];
    add.s32 %r7, %r6, 1;
    st.global.u32 [%rd4], %r7;
DONE:
    ret;
}
)";

// The contract of that kernel, as a template header and gpu.func signature
// would state it (KernelContract::fromText("add_one", kAddOneContract)).
inline constexpr const char *kAddOneContract = R"(// add_one, hand-written PTX
// @dtype T: i32
// @constexpr BLOCK = 256 in 32..1024
gpu.func @packjit_add_one(%data: !llvm.ptr<1>, %n: i32) kernel
)";

} // namespace packjit::runtime
