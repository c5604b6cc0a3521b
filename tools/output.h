// How the tandem client prints responses: text per command, or --json.
#pragma once

#include <string>
#include <vector>

#include "transport/message.h"

namespace tandem {

// Text rendering of a successful response to `command`.
std::string FormatText(const std::string& command, const std::vector<Row>& rows);

}  // namespace tandem
