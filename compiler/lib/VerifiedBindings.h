// Which dtype bindings of which templates have passed the verifier once.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace packjit::pipeline {

// A specialized module is valid or not whatever its constexprs' values
// (each becomes an arith.constant of its argument's type, and the block
// size an attribute): only the template and its dtypes decide. So the
// verifier runs on the first compile of each (template, dtypes), where a
// template's errors surface, and not again for its other constexprs
// (verification was a twentieth of mask_scan's compile).
class VerifiedBindings {
public:
  static constexpr size_t kMaxEntries = 1024; // bounded like TemplateCache

  static std::string key(std::string_view sourceName, std::string_view text,
                         const std::vector<std::string> &dtypes) {
    std::string key(sourceName);
    key += '\0' + std::to_string(std::hash<std::string_view>{}(text));
    for (const std::string &dtype : dtypes)
      key += '\0' + dtype;
    return key;
  }
  bool contains(const std::string &key) {
    std::lock_guard<std::mutex> lock(mutex_);
    return keys_.count(key) != 0;
  }
  void insert(const std::string &key) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (keys_.size() >= kMaxEntries)
      keys_.clear();
    keys_.insert(key);
  }

private:
  std::mutex mutex_;
  std::unordered_set<std::string> keys_;
};

} // namespace packjit::pipeline
