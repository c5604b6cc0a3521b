// Position files in a server root: statejcopy (journalcopy), state (pull -L),
// and later statepullL / statefailover. One line, "N/S".
#pragma once

#include <optional>
#include <string>

#include "journal/position.h"
#include "journal/status.h"

namespace tandem {

// NotFound when the file does not exist; Corruption when it does not parse.
Result<Position> ReadPositionFile(const std::string& path);
Status WritePositionFile(const std::string& path, Position pos);

}  // namespace tandem
