// Local configurables of a downstream server: how it reaches its upstream.
// They cannot live in the replicated `config` table, which the server only
// gets once it has reached the upstream, so `tandemd -r ROOT -cset` stores
// target, service.user and service.password in ROOT/config.local (mode 0600).
#pragma once

#include <map>
#include <string>

#include "journal/file.h"
#include "journal/root_layout.h"
#include "journal/status.h"

namespace tandem {

std::map<std::string, std::string> ReadLocalConfig(const RootLayout& layout);
// An empty value removes the setting.
// With `dirs`, the new file's directory entry is durable only at dirs->Sync().
Status SetLocalConfig(const RootLayout& layout, const std::string& name, const std::string& value,
                      DirectoryBatch* dirs = nullptr);

}  // namespace tandem
