#include "replica/local_config.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "journal/file.h"

namespace tandem {

std::map<std::string, std::string> ReadLocalConfig(const RootLayout& layout) {
  std::map<std::string, std::string> out;
  std::ifstream in(layout.local_config());
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

Status SetLocalConfig(const RootLayout& layout, const std::string& name, const std::string& value,
                      DirectoryBatch* dirs) {
  auto all = ReadLocalConfig(layout);
  if (value.empty()) {
    all.erase(name);
  } else {
    all[name] = value;
  }
  std::ostringstream text;
  for (const auto& [k, v] : all) text << k << "=" << v << "\n";
  TANDEM_RETURN_IF_ERROR(CreateDirs(layout.root()));
  TANDEM_RETURN_IF_ERROR(dirs ? dirs->WriteFile(layout.local_config(), text.str())
                              : WriteFileDurably(layout.local_config(), text.str()));
  ::chmod(layout.local_config().c_str(), 0600);
  return Status::Ok();
}

}  // namespace tandem
