#include "host_mailbox.h"

#include "packjit/core/error.h"
#include "packjit/runtime/device.h"
#include "packjit/runtime/driver.h"

#include <atomic>
#include <chrono>
#include <string>

namespace packjit::ops::cuda {
namespace {

// Spins between driver queries, and the spinning time after which the host
// sleeps in cuStreamSynchronize instead (a long kernel, a busy stream).
constexpr unsigned kSpinsPerQuery = 256;
constexpr auto kSpinLimit = std::chrono::milliseconds(2);

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

} // namespace

HostMailbox &HostMailbox::forThisThread(int device) {
  thread_local HostMailbox mailbox(device);
  return mailbox;
}

HostMailbox::HostMailbox(int device) {
  const runtime::CudaDriver &driver = runtime::cudaDriver();
  runtime::ScopedContext context(runtime::device(device).context);
  void *host = nullptr;
  // PORTABLE: any context (device) may post here; DEVICEMAP: kernels can.
  PACKJIT_CUDA_CHECK(driver.cuMemHostAlloc(&host, kWords * sizeof(int64_t),
                                           CU_MEMHOSTALLOC_PORTABLE |
                                               CU_MEMHOSTALLOC_DEVICEMAP));
  words_ = static_cast<volatile int64_t *>(host);
  for (int i = 0; i < kWords; ++i)
    words_[i] = 0;
  CUresult mapped = driver.cuMemHostGetDevicePointer(&device_, host, 0);
  if (mapped != CUDA_SUCCESS) {
    driver.cuMemFreeHost(host);
    PACKJIT_CUDA_CHECK(mapped);
  }
}

HostMailbox::~HostMailbox() {
  // At process exit the driver may already be gone: nothing to report.
  if (words_)
    runtime::cudaDriver().cuMemFreeHost(const_cast<int64_t *>(words_));
}

HostMailbox::Ticket HostMailbox::next() { return {device_, ++sequence_}; }

std::array<int64_t, HostMailbox::kPayloadWords>
HostMailbox::wait(const Ticket &ticket, CUstream stream) const {
  const runtime::CudaDriver &driver = runtime::cudaDriver();
  auto arrived = [&] { return words_[kSequenceWord] == ticket.sequence; };
  const auto start = std::chrono::steady_clock::now();
  for (unsigned spin = 1; !arrived(); ++spin) {
    if (spin % kSpinsPerQuery != 0) {
      cpuRelax();
      continue;
    }
    CUresult state = driver.cuStreamQuery(stream);
    if (state == CUDA_ERROR_NOT_READY &&
        std::chrono::steady_clock::now() - start > kSpinLimit)
      state = driver.cuStreamSynchronize(stream);
    if (state == CUDA_ERROR_NOT_READY)
      continue;
    PACKJIT_CUDA_CHECK(state);
    // The stream is idle: the kernel has posted, or it never will.
    if (!arrived())
      throw Error("internal error: the kernel finished without posting call " +
                  std::to_string(ticket.sequence) + " to the host mailbox");
    break;
  }
  // The sequence word is written after the payload (a system fence in the
  // kernel); read the payload after it.
  std::atomic_thread_fence(std::memory_order_acquire);
  std::array<int64_t, kPayloadWords> out{};
  for (int i = 0; i < kPayloadWords; ++i)
    out[i] = words_[i];
  return out;
}

void HostMailbox::copySideWords(CUdeviceptr from, CUstream stream) {
  PACKJIT_CUDA_CHECK(runtime::cudaDriver().cuMemcpyDtoHAsync(
      const_cast<int64_t *>(words_ + kSideWord), from,
      kSideWords * sizeof(int64_t), stream));
}

std::array<int64_t, HostMailbox::kSideWords> HostMailbox::sideWords() const {
  // The copy finished before the launch that was waited for began.
  std::atomic_thread_fence(std::memory_order_acquire);
  std::array<int64_t, kSideWords> out{};
  for (int i = 0; i < kSideWords; ++i)
    out[i] = words_[kSideWord + i];
  return out;
}

} // namespace packjit::ops::cuda
