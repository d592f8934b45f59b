// The items of a separated list, as environment variables (PACKJIT_AOT) and
// CLI options (packjit aot --dtypes) give them: "a::b:" is {"a", "b"}.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace packjit {

inline std::vector<std::string> splitList(std::string_view text,
                                          char separator) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos)
      end = text.size();
    if (end > start)
      items.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

} // namespace packjit
