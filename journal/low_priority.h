// Background work (a checkpoint) at the lowest CPU priority, so that on a
// busy machine it takes the CPU that commits leave instead of lengthening
// their latency; the work itself may take longer.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

namespace tandem {

// Runs `work` on a thread of its own at nice 19 and returns what it
// returns. The priority is the thread's alone (Linux), so nothing else in
// the process changes, and the thread ends with the work: no privilege is
// needed to raise it back. `work` is destroyed on that thread, so what it
// owns is freed at the low priority too.
template <typename Work>
auto RunAtLowPriority(Work work) {
  std::optional<decltype(work())> out;
  auto owned = std::make_unique<Work>(std::move(work));
  auto run = [&] {
    out.emplace((*owned)());
    owned.reset();
  };
  std::thread thread;
  try {
    thread = std::thread([&] {
      // Best effort: where it is refused, the work runs at the default.
      (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
      run();
    });
  } catch (const std::system_error&) {
    run();  // no thread to be had: the work runs here, at the caller's priority
    return std::move(*out);
  }
  thread.join();
  return std::move(*out);
}

}  // namespace tandem
