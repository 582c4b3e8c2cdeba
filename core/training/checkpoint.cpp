#include "training/checkpoint.h"

#include <fstream>

#include <torch/torch.h>

#include "modlab/experiment/run_store.h"

namespace modlab {

namespace fs = std::filesystem;

namespace {
std::string fileName(Family f) { return toString(f) + ".pt"; }

void saveAtomic(torch::serialize::OutputArchive& archive, const fs::path& path) {
  const fs::path tmp = path.string() + ".tmp";
  archive.save_to(tmp.string());
  fs::rename(tmp, path);
}

fs::path latestStepDir(const fs::path& dir) {
  const fs::path latest = dir / "latest";
  if (!fs::exists(latest)) throw ConfigError("resume", "no checkpoint in " + dir.string() + " to resume from");
  std::string name = readFile(latest);
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  return dir / name;
}
}  // namespace

void writeCheckpoint(const fs::path& dir, std::int64_t step, const at::Generator& data,
                     const std::vector<CheckpointFamily>& families) {
  const std::string name = "step-" + std::to_string(step);
  const fs::path stepDir = dir / name;
  fs::create_directories(stepDir);
  for (const CheckpointFamily& f : families) {
    torch::serialize::OutputArchive archive, optimiser;
    f.trainer->model().save(archive);
    f.trainer->optimiser().save(optimiser);
    archive.write("optimiser", optimiser);
    archive.write("diverged", torch::tensor(static_cast<std::int64_t>(f.diverged)));
    archive.write("best_validation", torch::tensor(f.bestValidation, torch::kDouble));
    saveAtomic(archive, stepDir / fileName(f.family));
    if (f.diverged) writeFileAtomic(stepDir / (toString(f.family) + ".diverged"), f.message);
  }
  torch::serialize::OutputArchive session;
  session.write("step", torch::tensor(step));
  session.write("data_generator", data.get_state());
  saveAtomic(session, stepDir / "session.pt");
  // Only now is this checkpoint complete: point at it, then drop the older ones.
  std::string previous;
  if (fs::exists(dir / "latest")) previous = readFile(dir / "latest");
  writeFileAtomic(dir / "latest", name + "\n");
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().rfind("step-", 0) == 0 && entry.path().filename() != name)
      fs::remove_all(entry.path());
}

std::int64_t readCheckpoint(const fs::path& dir, at::Generator& data, std::vector<CheckpointFamily>& families) {
  const fs::path stepDir = latestStepDir(dir);
  torch::serialize::InputArchive session;
  session.load_from((stepDir / "session.pt").string());
  torch::Tensor step, state;
  session.read("step", step);
  session.read("data_generator", state);
  data.set_state(state);
  for (CheckpointFamily& f : families) {
    torch::serialize::InputArchive archive, optimiser;
    archive.load_from((stepDir / fileName(f.family)).string());
    f.trainer->model().load(archive);
    f.trainer->optimiser().rebind();
    archive.read("optimiser", optimiser);
    f.trainer->optimiser().load(optimiser);
    torch::Tensor diverged, best;
    archive.read("diverged", diverged);
    archive.read("best_validation", best);
    f.diverged = diverged.item<std::int64_t>() != 0;
    f.bestValidation = best.item<double>();
    if (f.diverged && fs::exists(stepDir / (toString(f.family) + ".diverged")))
      f.message = readFile(stepDir / (toString(f.family) + ".diverged"));
  }
  return step.item<std::int64_t>();
}

void writeBestModel(const fs::path& dir, Family family, Trainer& trainer) {
  torch::serialize::OutputArchive archive;
  trainer.model().save(archive);
  saveAtomic(archive, dir / (toString(family) + "-best.pt"));
}

void loadModel(const fs::path& dir, Family family, const std::string& which, RuleModelImpl& model) {
  const fs::path path = which == "best" ? dir / (toString(family) + "-best.pt") : latestStepDir(dir) / fileName(family);
  if (!fs::exists(path)) throw ConfigError("run", "checkpoint " + path.string() + " is missing");
  torch::serialize::InputArchive archive;
  archive.load_from(path.string());
  model.load(archive);
}

}  // namespace modlab
