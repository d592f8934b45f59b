// The background thread of tiered specialization (KernelFamily::getTiered):
// one worker, started on first use, runs queued compiles one at a time in
// the order they were queued. Fork-safe: a fork waits until no compile is
// running, and the child starts a worker of its own only when it queues or
// waits for one (docs/runtime.md, "Tiered specialization").
#pragma once

#include <functional>

namespace packjit::runtime {

// Blocks until the queue is empty and nothing runs: every background
// compile queued so far has finished, loaded or failed. Returns at once
// when none was queued. For tests and benchmarks that need the specialized
// kernels in place; must not be called from a background compile.
void waitForBackgroundCompiles();

// Queues `compile` for the worker. It must not throw (a throw is logged
// and dropped). `owner` tags it for forgetBackgroundCompiles.
void postBackgroundCompile(const void *owner, std::function<void()> compile);
// Drops `owner`'s queued compiles and waits for its running one: what an
// owner (a KernelCache) does before it dies.
void forgetBackgroundCompiles(const void *owner);

} // namespace packjit::runtime
