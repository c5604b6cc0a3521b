// Whether this build runs under a sanitizer that keeps extra memory resident
// (AddressSanitizer's quarantine, ThreadSanitizer's shadow), so that a test of
// a server's peak memory means nothing; with GCC or clang.
#pragma once

namespace tandem::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kMemorySanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kMemorySanitized = true;
#else
inline constexpr bool kMemorySanitized = false;
#endif
#else
inline constexpr bool kMemorySanitized = false;
#endif

}  // namespace tandem::testing
