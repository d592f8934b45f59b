// Small text helpers for reading kernel templates and KernelSpec lines
// (core's parsers; not installed).
#pragma once

#include <string_view>
#include <vector>

namespace packjit {

std::string_view trim(std::string_view s);
// The whitespace-separated words of `s`.
std::vector<std::string_view> words(std::string_view s);
// [A-Za-z_][A-Za-z0-9_]*
bool isIdentifier(std::string_view s);
// The lines of the template's leading comment block, trimmed, each starting
// with "//"; blank lines inside it are skipped.
std::vector<std::string_view> headerLines(std::string_view templateText);

} // namespace packjit
