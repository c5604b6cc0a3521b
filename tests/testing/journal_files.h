// Helpers for tests that write files, and damage journals and checkpoints on
// purpose.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tandem::testing {

std::string ReadAll(const std::string& path);
void WriteAll(const std::string& path, const std::string& bytes);
void FlipByte(const std::string& path, uint64_t offset);
void TruncateFile(const std::string& path, uint64_t size);
uint64_t FileSize(const std::string& path);
// `n` pseudo-random (incompressible) bytes, the same for the same seed.
std::string RandomBytes(size_t n, uint64_t seed);

}  // namespace tandem::testing
