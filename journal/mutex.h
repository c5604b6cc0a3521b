// A mutex whose locking rules the compiler checks: with clang, members marked
// TANDEM_GUARDED_BY(mu_) may be touched only while mu_ is held, and
// functions marked TANDEM_REQUIRES(mu_) only called so (-Wthread-safety, on
// in `make tsan`). Other compilers see plain std::mutex code. The same idea
// as LevelDB's port/thread_annotations.h.
#pragma once

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define TANDEM_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TANDEM_THREAD_ANNOTATION(x)
#endif

#define TANDEM_CAPABILITY(x) TANDEM_THREAD_ANNOTATION(capability(x))
#define TANDEM_SCOPED_CAPABILITY TANDEM_THREAD_ANNOTATION(scoped_lockable)
#define TANDEM_GUARDED_BY(x) TANDEM_THREAD_ANNOTATION(guarded_by(x))
#define TANDEM_REQUIRES(...) TANDEM_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define TANDEM_EXCLUDES(...) TANDEM_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define TANDEM_ACQUIRE(...) TANDEM_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define TANDEM_RELEASE(...) TANDEM_THREAD_ANNOTATION(release_capability(__VA_ARGS__))

namespace tandem {

class TANDEM_CAPABILITY("mutex") Mutex {
 public:
  void lock() TANDEM_ACQUIRE() { mu_.lock(); }
  void unlock() TANDEM_RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds a Mutex for a scope; Unlock/Lock let a condition variable wait on it.
class TANDEM_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) TANDEM_ACQUIRE(mu) : mu_(mu) { mu_->lock(); }
  ~MutexLock() TANDEM_RELEASE() {
    if (held_) mu_->unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  void lock() TANDEM_ACQUIRE() {
    mu_->lock();
    held_ = true;
  }
  void unlock() TANDEM_RELEASE() {
    held_ = false;
    mu_->unlock();
  }

 private:
  Mutex* mu_;
  bool held_ = true;
};

// Waits on a MutexLock (std::condition_variable_any does the unlock and
// relock, which the analysis cannot see, so it trusts the scope).
using CondVar = std::condition_variable_any;

}  // namespace tandem
