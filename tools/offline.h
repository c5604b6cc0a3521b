// tandemd's offline operations (-cset, -jc, -jr, -xv, --add-user, --id):
// each opens the root without serving it.
#pragma once

#include <string>
#include <vector>

#include "journal/status.h"

namespace tandem {

Status OfflineSetConfig(const std::string& root, const std::string& assignment);
Status OfflineCheckpoint(const std::string& root);
Status OfflineRestore(const std::string& root, const std::string& checkpoint,
                      const std::vector<std::string>& journals);
// Prints one line per file checked; fails naming the first bad one found.
Status OfflineValidate(const std::string& root);
Status OfflineAddUser(const std::string& root, const std::string& name, const std::string& level,
                      const std::string& password);
Status OfflineSetServerId(const std::string& root, const std::string& id);
// -xD: lets a root that was failed over from serve as master again.
Status OfflineClearFence(const std::string& root);

}  // namespace tandem
