#include "large_buffer.h"

#include <ATen/ATen.h>

#include <sys/mman.h>

#include <mutex>
#include <new>
#include <vector>

namespace packjit::ops::cpu {
namespace {

constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kMinLargeBytes = size_t(1) << 20;
constexpr size_t kMaxCachedBlocks = 4;

struct Block {
  void *base;   // what mmap returned
  size_t bytes; // mapped length
  void *data;   // 2 MB aligned, inside [base, base + bytes)
};

class BlockCache {
public:
  Block take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t i = 0; i < free_.size(); ++i) {
        if (free_[i].bytes == bytes) {
          Block block = free_[i];
          free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
          return block;
        }
      }
    }
    void *base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
      throw std::bad_alloc();
    auto aligned = (reinterpret_cast<uintptr_t>(base) + kHugePage - 1) &
                   ~(uintptr_t(kHugePage) - 1);
    madvise(reinterpret_cast<void *>(aligned),
            bytes - (aligned - reinterpret_cast<uintptr_t>(base)),
            MADV_HUGEPAGE); // advice only: fine if the kernel ignores it
    return {base, bytes, reinterpret_cast<void *>(aligned)};
  }

  void give(const Block &block) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(block);
    if (free_.size() > kMaxCachedBlocks) {
      munmap(free_.front().base, free_.front().bytes);
      free_.erase(free_.begin());
    }
  }

private:
  std::mutex mutex_;
  std::vector<Block> free_; // oldest first
};

BlockCache &cache() {
  static auto *instance = new BlockCache(); // outlives tensors freed at exit
  return *instance;
}

} // namespace

at::Tensor emptyLarge(int64_t numel, at::ScalarType dtype) {
  const size_t payload = static_cast<size_t>(numel) * c10::elementSize(dtype);
  if (payload < kMinLargeBytes)
    return at::empty({numel}, at::TensorOptions().dtype(dtype));
  // Room to align to a huge page, rounded so that blocks are reusable.
  const size_t bytes = (payload + 2 * kHugePage - 1) & ~(kHugePage - 1);
  Block block = cache().take(bytes);
  return at::from_blob(
      block.data, {numel}, [block](void *) { cache().give(block); },
      at::TensorOptions().dtype(dtype));
}

} // namespace packjit::ops::cpu
