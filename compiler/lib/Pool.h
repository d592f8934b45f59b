// A pool of reusable objects for concurrent compiles.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace packjit::pipeline {

// Reusable objects that are not safe to share between concurrent compiles
// (pass managers, TargetMachines): each compile takes one, or makes one when
// all are in use, and gives it back when it is done.
template <typename T> class Pool {
public:
  class Lease {
  public:
    Lease(Pool &pool, std::unique_ptr<T> item)
        : pool_(pool), item_(std::move(item)) {}
    // Movable, so a compile can hold its lease across stages.
    Lease(Lease &&other) noexcept
        : pool_(other.pool_), item_(std::move(other.item_)) {}
    Lease(const Lease &) = delete;
    Lease &operator=(const Lease &) = delete;
    ~Lease() {
      if (item_)
        pool_.giveBack(std::move(item_));
    }
    T &operator*() const { return *item_; }
    T *operator->() const { return item_.get(); }
    // After a failure the object's state is unknown: do not reuse it.
    void discard() { item_.reset(); }

  private:
    Pool &pool_;
    std::unique_ptr<T> item_;
  };

  explicit Pool(std::function<std::unique_ptr<T>()> make)
      : make_(std::move(make)) {}

  Lease take() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<T> item = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(item));
      }
    }
    return Lease(*this, make_());
  }

private:
  void giveBack(std::unique_ptr<T> item) {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(item));
  }

  std::function<std::unique_ptr<T>()> make_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<T>> idle_;
};

} // namespace packjit::pipeline
