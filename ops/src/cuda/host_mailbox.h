// Results a kernel posts straight into host memory: 64 bytes of pinned host
// memory mapped for the device per host thread, and a sequence number per
// call. The op then waits for one word to change instead of enqueuing a
// device-to-host copy and synchronizing the stream (two driver calls and a
// copy's latency on the critical path of every get_unpad_data).
#pragma once

#include <cuda.h>

#include <array>
#include <cstdint>

namespace packjit::ops::cuda {

class HostMailbox {
public:
  // Mailbox layout, in int64 words (the kernel's side:
  // kernels_src/mask_scan.mlir).
  static constexpr int kPayloadWords = 4;
  static constexpr int kSequenceWord = 4;
  // Side words: a stream copies values here ahead of a launch that posts to
  // this mailbox (copySideWords); the wait for that launch covers them.
  static constexpr int kSideWord = 5;
  static constexpr int kSideWords = 3;
  static constexpr int kWords = 8;

  struct Ticket {
    CUdeviceptr address = 0; // where the kernel posts
    int64_t sequence = 0;    // what it writes into kSequenceWord last
  };

  // This thread's mailbox, allocated on first use (in `device`'s primary
  // context; PORTABLE memory serves every device afterwards).
  static HostMailbox &forThisThread(int device);

  // The address and sequence number for the next launch that posts here.
  Ticket next();

  // Waits until `ticket`'s post arrived and returns words 0..3. Spins on the
  // sequence word, querying `stream` now and then so that a failed kernel or
  // a captured stream raises instead of hanging; after 2 ms it blocks in
  // cuStreamSynchronize instead of spinning.
  std::array<int64_t, kPayloadWords> wait(const Ticket &ticket,
                                          CUstream stream) const;

  // Enqueues on `stream` a copy of kSideWords int64 from device memory into
  // the side words; read them with sideWords() once a launch enqueued after
  // it on `stream` has been waited for.
  void copySideWords(CUdeviceptr from, CUstream stream);
  std::array<int64_t, kSideWords> sideWords() const;

  HostMailbox(const HostMailbox &) = delete;
  HostMailbox &operator=(const HostMailbox &) = delete;
  ~HostMailbox();

private:
  explicit HostMailbox(int device);
  volatile int64_t *words_ = nullptr;
  CUdeviceptr device_ = 0;
  int64_t sequence_ = 0;
};

} // namespace packjit::ops::cuda
