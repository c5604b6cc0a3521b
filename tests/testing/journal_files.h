// Helpers for tests that damage journal and checkpoint files on purpose.
#pragma once

#include <cstdint>
#include <string>

namespace tandem::testing {

std::string ReadAll(const std::string& path);
void WriteAll(const std::string& path, const std::string& bytes);
void FlipByte(const std::string& path, uint64_t offset);
void TruncateFile(const std::string& path, uint64_t size);
uint64_t FileSize(const std::string& path);

}  // namespace tandem::testing
