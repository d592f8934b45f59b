#include "packjit/runtime/bundle.h"

#include "framed_file.h"
#include "packjit/core/error.h"
#include "packjit/core/version.h"

#include <cstring>
#include <nlohmann/json.hpp>

namespace packjit::runtime {
namespace {

constexpr std::string_view kMagic = "PJBUNDLE";

nlohmann::json appendBlob(std::string &payload, const std::string &blob) {
  nlohmann::json range = {payload.size(), blob.size()};
  payload += blob;
  return range;
}

std::string takeBlob(const std::string &payload, const nlohmann::json &range) {
  // Only unsigned integers: get<size_t>() of 1.8e19 (a JSON float) or of
  // a negative number converts out of range (UB).
  if (!range.at(0).is_number_unsigned() || !range.at(1).is_number_unsigned())
    throw Error("blob range " + range.dump() + " is not two unsigned integers");
  size_t offset = range.at(0).get<size_t>();
  size_t size = range.at(1).get<size_t>();
  if (offset > payload.size() || size > payload.size() - offset)
    throw Error("blob [" + std::to_string(offset) + ", +" +
                std::to_string(size) + ") lies outside the payload");
  return payload.substr(offset, size);
}

} // namespace

std::string encodeBundle(const std::vector<CacheEntry> &entries) {
  nlohmann::json index = {{"written_by", std::string(compilerVersion())},
                          {"entries", nlohmann::json::array()}};
  std::string payload;
  for (const CacheEntry &entry : entries)
    index["entries"].push_back({
        {"key", entry.key},
        {"entry", entry.image.entryName},
        {"ptx", appendBlob(payload, entry.image.ptx)},
        {"cubin", appendBlob(payload, entry.image.cubin)},
        {"cubin_target", entry.image.cubinTarget},
    });
  return encodeFrame(kMagic, kBundleFormatVersion, index.dump(), payload);
}

void writeBundle(const std::string &path,
                 const std::vector<CacheEntry> &entries) {
  if (int error = writeFileAtomically(path, encodeBundle(entries)))
    throw Error("cannot write AOT bundle '" + path +
                "': " + std::strerror(error));
}

Bundle Bundle::load(const std::string &path) {
  std::optional<std::string> bytes = readWholeFile(path);
  if (!bytes)
    throw Error("cannot read AOT bundle '" + path +
                "': " + std::strerror(errno));
  return decode(*bytes, path);
}

Bundle Bundle::decode(std::string_view bytes, const std::string &path) {
  std::string why;
  std::optional<Frame> frame =
      decodeFrame(bytes, kMagic, kBundleFormatVersion, &why);
  if (!frame)
    throw Error("'" + path + "' is not a usable packjit AOT bundle: " + why);
  Bundle bundle;
  bundle.path_ = path;
  try {
    nlohmann::json index = nlohmann::json::parse(frame->header);
    bundle.writtenBy_ = index.at("written_by").get<std::string>();
    for (const nlohmann::json &item : index.at("entries")) {
      CacheEntry entry;
      entry.key = item.at("key").get<std::string>();
      entry.image.entryName = item.at("entry").get<std::string>();
      entry.image.ptx = takeBlob(frame->payload, item.at("ptx"));
      entry.image.cubin = takeBlob(frame->payload, item.at("cubin"));
      entry.image.cubinTarget = item.at("cubin_target").get<std::string>();
      bundle.indexByKey_[entry.key] = bundle.entries_.size();
      bundle.entries_.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception &e) {
    throw Error("'" + path +
                "' is not a usable packjit AOT bundle: bad index: " + e.what());
  } catch (const Error &e) {
    throw Error("'" + path +
                "' is not a usable packjit AOT bundle: " + e.what());
  }
  return bundle;
}

const KernelImage *Bundle::find(const std::string &key) const {
  auto it = indexByKey_.find(key);
  return it == indexByKey_.end() ? nullptr : &entries_[it->second].image;
}

} // namespace packjit::runtime
