#include "packjit/runtime/background_compiles.h"

#include "packjit/core/log.h"
#include "packjit/runtime/compiler_library.h"

#include <pthread.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace packjit::runtime {
namespace {

// The queue's lock and wake-ups, behind a pointer: a forked child replaces
// them (the parent's worker, absent from the child, may have been a waiter).
struct Sync {
  std::mutex mutex;
  std::condition_variable workPosted; // the worker waits on it
  std::condition_variable taskDone;   // waiters for idleness wait on it
};

// True on the worker: a compile that forks (a CompileFunction running a
// tool) must not wait for itself.
thread_local bool onWorker = false;

class BackgroundQueue {
public:
  // Never destroyed: the worker is detached and may outlive static
  // destructors (stopAtExit keeps it from running into them).
  static BackgroundQueue &instance() {
    static BackgroundQueue *queue = new BackgroundQueue;
    return *queue;
  }

  void post(const void *owner, std::function<void()> compile) {
    std::lock_guard lock(sync_->mutex);
    if (stopping_)
      return; // the process is exiting
    tasks_.push_back({owner, std::move(compile)});
    startWorkerIfNeeded();
    sync_->workPosted.notify_one();
  }

  void waitIdle() {
    std::unique_lock lock(sync_->mutex);
    startWorkerIfNeeded(); // a forked child's inherited queue
    sync_->taskDone.wait(
        lock, [&] { return (tasks_.empty() && !running_) || !workerAlive_; });
  }

  void forget(const void *owner) {
    std::unique_lock lock(sync_->mutex);
    std::erase_if(tasks_,
                  [&](const Task &task) { return task.owner == owner; });
    sync_->taskDone.wait(lock,
                         [&] { return !(running_ && runningOwner_ == owner); });
    sync_->taskDone.notify_all(); // the queue may be empty now
  }

private:
  struct Task {
    const void *owner;
    std::function<void()> compile;
  };

  BackgroundQueue() {
    // Handlers run in the thread that forks, around fork().
    pthread_atfork([] { instance().prepareFork(); },
                   [] { instance().afterForkInParent(); },
                   [] { instance().afterForkInChild(); });
  }

  // Under sync_->mutex.
  void startWorkerIfNeeded() {
    if (workerAlive_ || tasks_.empty() || stopping_)
      return;
    try {
      std::thread([this] { work(); }).detach();
      workerAlive_ = true;
    } catch (const std::exception &e) {
      PACKJIT_LOG(Warn, std::string("cannot start the background compile "
                                    "thread (") +
                            e.what() + "); specialized kernels stay queued");
    }
  }

  void work() {
    onWorker = true;
    std::unique_lock lock(sync_->mutex);
    for (;;) {
      sync_->workPosted.wait(
          lock, [&] { return stopping_ || (!tasks_.empty() && !forking_); });
      if (stopping_)
        return;
      Task task = std::move(tasks_.front());
      tasks_.pop_front();
      running_ = true;
      runningOwner_ = task.owner;
      lock.unlock();
      try {
        registerExitHandlerOnce(); // while running_: a fork waits for it
        task.compile();
      } catch (const std::exception &e) {
        PACKJIT_LOG(Warn, std::string("background compile threw: ") + e.what());
      } catch (...) {
        PACKJIT_LOG(Warn, "background compile threw an unknown exception");
      }
      task = {}; // its captures die outside the lock
      lock.lock();
      running_ = false;
      runningOwner_ = nullptr;
      sync_->taskDone.notify_all();
    }
  }

  static void registerExitHandlerOnce() {
    static std::once_flag once;
    std::call_once(once, [] {
      // The compiler library first, so that stopAtExit (registered after
      // it) runs before the library's static destructors.
      compilerAvailable();
      std::atexit([] { instance().stopAtExit(); });
    });
  }

  // A fork happens between two compiles, never during one: the child must
  // not inherit a lock a compile holds (the kernel cache's, the disk cache's
  // lock file, the compiler's own). The mutex stays locked across fork().
  void prepareFork() {
    if (onWorker)
      return;
    std::unique_lock lock(sync_->mutex);
    forking_ = true; // the worker takes no new task meanwhile
    sync_->taskDone.wait(lock, [&] { return !running_; });
    lock.release();
  }

  void afterForkInParent() {
    if (onWorker)
      return;
    forking_ = false;
    sync_->mutex.unlock();
    sync_->workPosted.notify_one();
  }

  // The only thread of the child is the one that forked: the worker is gone.
  // Queued tasks stay; a worker starts when the child posts or waits.
  void afterForkInChild() {
    if (onWorker)
      return; // the child of a compile runs no compiles
    forking_ = false;
    workerAlive_ = false;
    (void)sync_.release(); // locked, and maybe waited on by absent threads
    sync_ = std::make_unique<Sync>();
  }

  // Exit waits for a running compile (it may use statics that exit is about
  // to destroy) and drops the rest.
  void stopAtExit() {
    std::unique_lock lock(sync_->mutex);
    stopping_ = true;
    tasks_.clear();
    sync_->workPosted.notify_all();
    sync_->taskDone.wait(lock, [&] { return !running_; });
    sync_->taskDone.notify_all();
  }

  std::unique_ptr<Sync> sync_ = std::make_unique<Sync>();
  std::deque<Task> tasks_;
  bool workerAlive_ = false;
  bool running_ = false;
  const void *runningOwner_ = nullptr;
  bool forking_ = false;
  bool stopping_ = false;
};

} // namespace

void waitForBackgroundCompiles() { BackgroundQueue::instance().waitIdle(); }

void postBackgroundCompile(const void *owner, std::function<void()> compile) {
  BackgroundQueue::instance().post(owner, std::move(compile));
}

void forgetBackgroundCompiles(const void *owner) {
  BackgroundQueue::instance().forget(owner);
}

} // namespace packjit::runtime
