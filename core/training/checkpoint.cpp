#include "training/checkpoint.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "modlab/experiment/run_store.h"
#include "modlab/io/files.h"

namespace modlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxCheckpointBytes = std::size_t{4} << 30;

std::string fileName(const std::string& variant) { return variantFileStem(variant) + ".pt"; }

template <typename Archive>
std::string serialise(Archive& archive) {
  std::string bytes;
  archive.save_to([&bytes](const void* data, std::size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  return bytes;
}

// A generation being written: its files and their checksums, for the manifest.
struct Generation {
  fs::path folder;
  json files = json::object();
  void write(const std::string& name, const std::string& bytes) {
    writeFileAtomic(folder / name, bytes);
    files[name] = {{"bytes", bytes.size()}, {"crc32", crc32Hex(bytes)}};
  }
};

// The bytes of a file a manifest lists, verified; throws ReadError.
std::string verifiedFile(const fs::path& folder, const json& manifest, const std::string& name) {
  if (!manifest.contains("files") || !manifest["files"].contains(name))
    throw ReadError(name + " is not in the manifest");
  const json& entry = manifest["files"][name];
  const std::string bytes = readFile(folder / name, kMaxCheckpointBytes);
  if (bytes.size() != entry.value("bytes", std::size_t{0}) || crc32Hex(bytes) != entry.value("crc32", ""))
    throw ReadError(name + " does not match its checksum (the file is damaged)");
  return bytes;
}

json readManifest(const fs::path& folder) {
  if (!fs::exists(folder / "manifest.json"))
    throw ReadError("incomplete (no manifest.json: it was being written when the process stopped)");
  const json m = json::parse(readFile(folder / "manifest.json"), nullptr, false);
  if (m.is_discarded() || !m.is_object() || !m.contains("step") || !m["step"].is_number_integer())
    throw ReadError("manifest.json is damaged");
  return m;
}

// step-<n> folders, newest first.
std::vector<std::pair<std::int64_t, fs::path>> generations(const fs::path& dir) {
  std::vector<std::pair<std::int64_t, fs::path>> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  // A writer may add and remove generations meanwhile (eval of a run that trains): what
  // vanishes is skipped, never an error.
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    std::error_code kind;
    if (!entry.is_directory(kind) || name.rfind("step-", 0) != 0) continue;
    try {
      std::size_t used = 0;
      const std::int64_t step = std::stoll(name.substr(5), &used);
      if (used == name.size() - 5) out.emplace_back(step, entry.path());
    } catch (const std::exception&) {
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

torch::serialize::InputArchive archiveOf(const std::string& bytes) {
  torch::serialize::InputArchive archive;
  archive.load_from(bytes.data(), bytes.size());
  return archive;
}

std::int64_t loadGeneration(const fs::path& folder, at::Generator& data, std::vector<CheckpointFamily>& families) {
  const json manifest = readManifest(folder);
  auto session = archiveOf(verifiedFile(folder, manifest, "session.pt"));
  torch::Tensor step, state;
  session.read("step", step);
  session.read("data_generator", state);
  for (CheckpointFamily& f : families) {
    auto archive = archiveOf(verifiedFile(folder, manifest, fileName(f.variant)));
    torch::serialize::InputArchive optimiser;
    f.trainer->model().load(archive);
    f.trainer->optimiser().rebind();
    archive.read("optimiser", optimiser);
    f.trainer->optimiser().load(optimiser);
    torch::Tensor diverged, best;
    archive.read("diverged", diverged);
    archive.read("best_validation", best);
    f.diverged = diverged.item<std::int64_t>() != 0;
    f.bestValidation = best.item<double>();
    const std::string flag = variantFileStem(f.variant) + ".diverged";
    f.message = f.diverged && manifest["files"].contains(flag) ? verifiedFile(folder, manifest, flag) : "";
  }
  data.set_state(state);
  return step.item<std::int64_t>();
}

std::string reasonOf(const std::exception& e) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) return c10->what_without_backtrace();
  return e.what();
}

}  // namespace

void writeCheckpoint(const fs::path& dir, std::int64_t step, const at::Generator& data,
                     const std::vector<CheckpointFamily>& families) {
  const std::string name = "step-" + std::to_string(step);
  Generation g{dir / name};
  // Checked again at every generation: a folder swapped for a link while the run trains is
  // never written through (and remove_all below removes a link, never what it leads to).
  if (isLink(dir)) throw WriteError("cannot write a checkpoint into " + dir.string() + ": it is a symbolic link");
  fs::remove_all(g.folder);  // a generation of the same step from before a fallback
  fs::create_directories(g.folder);
  for (const CheckpointFamily& f : families) {
    torch::serialize::OutputArchive archive, optimiser;
    f.trainer->model().save(archive);
    f.trainer->optimiser().save(optimiser);
    archive.write("optimiser", optimiser);
    archive.write("diverged", torch::tensor(static_cast<std::int64_t>(f.diverged)));
    archive.write("best_validation", torch::tensor(f.bestValidation, torch::kDouble));
    g.write(fileName(f.variant), serialise(archive));
    if (f.diverged) g.write(variantFileStem(f.variant) + ".diverged", f.message);
  }
  torch::serialize::OutputArchive session;
  session.write("step", torch::tensor(step));
  session.write("data_generator", data.get_state());
  g.write("session.pt", serialise(session));
  // Only now is this generation complete: its manifest, then the pointer, then drop all
  // but the two newest.
  writeFileAtomic(g.folder / "manifest.json", json{{"step", step}, {"files", g.files}}.dump(1) + "\n");
  writeFileAtomic(dir / "latest", name + "\n");
  const auto all = generations(dir);
  for (std::size_t i = 2; i < all.size(); ++i) fs::remove_all(all[i].second);
}

bool hasCheckpoint(const fs::path& dir) {
  for (const auto& [step, folder] : generations(dir))
    if (fs::exists(folder / "manifest.json")) return true;
  return false;
}

std::int64_t readCheckpoint(const fs::path& dir, at::Generator& data, std::vector<CheckpointFamily>& families,
                            std::vector<std::string>* warnings) {
  std::string reasons;
  for (const auto& [step, folder] : generations(dir)) {
    try {
      const std::int64_t loaded = loadGeneration(folder, data, families);
      if (!reasons.empty() && warnings)
        warnings->push_back("resumed from the older checkpoint " + folder.filename().string() + " because" + reasons);
      return loaded;
    } catch (const std::exception& e) {
      reasons += " " + folder.filename().string() + ": " + reasonOf(e) + ";";
    }
  }
  if (reasons.empty()) throw ReadError("no checkpoint in " + dir.string() + " to resume from");
  reasons.pop_back();
  throw ReadError("no usable checkpoint in " + dir.string() + ":" + reasons);
}

void writeBestModel(const fs::path& dir, const std::string& variant, Trainer& trainer, std::int64_t step, double validation) {
  torch::serialize::OutputArchive archive;
  trainer.model().save(archive);
  const std::string bytes = serialise(archive);
  writeFileAtomic(dir / (variantFileStem(variant) + "-best.pt"), bytes);
  writeFileAtomic(dir / (variantFileStem(variant) + "-best.json"),
                  json{{"step", step}, {"validation", validation}, {"bytes", bytes.size()}, {"crc32", crc32Hex(bytes)}}.dump(1) +
                      "\n");
}

namespace {

LoadedModel loadBest(const fs::path& dir, const std::string& variant, RuleModelImpl& model) {
  LoadedModel out;
  const fs::path pt = dir / (variantFileStem(variant) + "-best.pt"), sidecar = dir / (variantFileStem(variant) + "-best.json");
  if (!fs::exists(fs::symlink_status(pt))) throw ReadError("the best checkpoint " + pt.string() + " is missing");
  // LibTorch does not check the archive's own CRCs: without its record, a best model cannot be
  // told from a damaged one, so it is not loaded.
  if (!fs::exists(fs::symlink_status(sidecar)))
    throw ReadError("the best checkpoint " + pt.string() + " cannot be checked: its record " + sidecar.filename().string() +
                    " (step, validation value and checksum) is missing; evaluate --checkpoint last instead");
  const json info = json::parse(readFile(sidecar), nullptr, false);
  if (!info.is_object() || !info.contains("crc32") || !info.contains("step") || !info["step"].is_number_integer())
    throw ReadError(sidecar.string() + " is damaged");
  const std::string bytes = readFile(pt, kMaxCheckpointBytes);
  if (crc32Hex(bytes) != info.value("crc32", "") || bytes.size() != info.value("bytes", bytes.size()))
    throw ReadError(pt.string() + " does not match its checksum (the file is damaged)");
  out.step = info["step"].get<std::int64_t>();
  out.validation = info.value("validation", 0.0);
  out.hasValidation = info.contains("validation");
  try {
    auto archive = archiveOf(bytes);
    model.load(archive);
  } catch (const std::exception& e) {
    throw ReadError(pt.string() + " cannot be loaded: " + reasonOf(e));
  }
  return out;
}

}  // namespace

std::vector<LoadedModel> loadModels(const fs::path& dir, const std::vector<std::string>& variants, const std::string& which,
                                    const std::vector<RuleModelImpl*>& models, bool writerRunning) {
  std::vector<LoadedModel> out;
  if (which == "best") {
    for (std::size_t i = 0; i < variants.size(); ++i) out.push_back(loadBest(dir, variants[i], *models[i]));
    return out;
  }
  // Every model from one generation, so that the step named is every model's step.
  std::string reasons;
  for (const auto& [step, folder] : generations(dir)) {
    try {
      const json manifest = readManifest(folder);
      std::vector<std::string> bytes;
      for (const std::string& variant : variants) bytes.push_back(verifiedFile(folder, manifest, fileName(variant)));
      out.assign(variants.size(), LoadedModel{});
      for (std::size_t i = 0; i < variants.size(); ++i) {
        auto archive = archiveOf(bytes[i]);
        models[i]->load(archive);
        torch::Tensor diverged;
        if (archive.try_read("diverged", diverged) && diverged.item<std::int64_t>() != 0) {
          out[i].diverged = true;
          const std::string flag = variantFileStem(variants[i]) + ".diverged";
          out[i].message = manifest["files"].contains(flag) ? verifiedFile(folder, manifest, flag) : "diverged";
        }
        out[i].step = manifest["step"].get<std::int64_t>();
      }
      if (!reasons.empty())
        out.front().warnings.push_back("used the older checkpoint " + folder.filename().string() + " because" + reasons);
      return out;
    } catch (const std::exception& e) {
      std::string reason = reasonOf(e);
      if (writerRunning && reason.rfind("incomplete", 0) == 0)
        reason = "it is being written by the training that is still running";
      reasons += " " + folder.filename().string() + ": " + reason + ";";
    }
  }
  if (reasons.empty()) throw ReadError("no checkpoint in " + dir.string());
  reasons.pop_back();
  throw ReadError("no usable checkpoint in " + dir.string() + ":" + reasons);
}

}  // namespace modlab
