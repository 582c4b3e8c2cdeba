// Whole run folders mutated as a disk, a script or a hand can mutate them: lines deleted,
// duplicated, swapped, cut short; a file replaced by a link to a copy outside the folder.
// The reader must then throw ReadError/ConfigError, or give a record whose every figure is the
// one the intact run recorded: never a 0 for an absent line, never a read through a link.
// Input: up to 16 mutations of 4 bytes each (operation, file, line a, line b). The intact run
// is tests/fuzz/seed_run/ (a real run of modlab-cli, 60 steps; tools/make-fuzz-seed-run remakes it).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#include <unistd.h>

#include "modlab/experiment/run_store.h"

namespace fs = std::filesystem;
using namespace modlab;

namespace {
const char* const kFiles[] = {"config.json", "run.json", "metrics.csv", "activations.jsonl"};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void put(const fs::path& path, const std::string& bytes) {
  fs::remove(path);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find('\n', pos);
    out.push_back(text.substr(pos, end == std::string::npos ? std::string::npos : end + 1 - pos));
    pos = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

struct Seed {
  std::string texts[4];
  RunRecord record;
  std::map<std::pair<std::int64_t, std::string>, FamilyEvaluation> evaluations;
  std::map<std::pair<std::int64_t, std::string>, TrainPoint> train;
  fs::path dir, outside;
};

const Seed& seed() {
  static const Seed s = [] {
    Seed s;
    const fs::path from = fs::path(MODLAB_FUZZ_SEED_RUN);
    for (int i = 0; i < 4; ++i) s.texts[i] = slurp(from / kFiles[i]);
    s.dir = fs::temp_directory_path() / ("modlab-fuzz-mutations-" + std::to_string(getpid()));
    s.outside = s.dir.string() + "-outside";
    fs::create_directories(s.dir);
    fs::create_directories(s.outside);
    for (int i = 0; i < 4; ++i) put(s.dir / kFiles[i], s.texts[i]);
    s.record = RunStore::loadFinished(s.dir);  // the intact run must read whole
    for (const EvaluationSnapshot& e : s.record.evaluations)
      for (const FamilyEvaluation& f : e.families) s.evaluations[{e.step, f.variant}] = f;
    for (const TrainPoint& p : s.record.train) s.train[{p.step, p.variant}] = p;
    return s;
  }();
  return s;
}

bool same(const ConditionResult& a, const ConditionResult& b) {
  return a.length == b.length && a.scale == b.scale && a.loss == b.loss && a.error == b.error;
}

bool same(const FamilyEvaluation& a, const FamilyEvaluation& b) {
  if (!same(a.id, b.id) || !same(a.ood, b.ood) || !same(a.validation, b.validation)) return false;
  if (a.conditions.size() != b.conditions.size() || a.hasMetrics != b.hasMetrics) return false;
  for (std::size_t i = 0; i < a.conditions.size(); ++i)
    if (!same(a.conditions[i], b.conditions[i])) return false;
  const SpecialisationMetrics &m = a.metrics, &n = b.metrics;
  return m.collapseAvg == n.collapseAvg && m.collapseWorst == n.collapseWorst && m.alignment == n.alignment &&
         m.adaptation == n.adaptation && m.inverseMutualInformation == n.inverseMutualInformation &&
         a.rules == b.rules && a.moduleGivenRule == b.moduleGivenRule;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Seed& s = seed();
  std::vector<std::string> files[4];
  for (int i = 0; i < 4; ++i) files[i] = lines(s.texts[i]);
  bool linked[4] = {false, false, false, false};
  for (std::size_t op = 0; op + 4 <= size && op < 64; op += 4) {
    const int file = data[op + 1] % 4;
    std::vector<std::string>& l = files[file];
    if (l.empty()) continue;
    const std::size_t a = data[op + 2] * 7919u % l.size(), b = data[op + 3] * 7919u % l.size();
    switch (data[op] % 5) {
      case 0: l.erase(l.begin() + static_cast<std::ptrdiff_t>(a)); break;
      case 1: l.insert(l.begin() + static_cast<std::ptrdiff_t>(b), l[a]); break;
      case 2: std::swap(l[a], l[b]); break;
      case 3: l[a] = l[a].substr(0, l[a].size() * data[op + 3] / 256); break;  // cut short
      case 4: linked[file] = true; break;
    }
  }
  for (int i = 0; i < 4; ++i) {
    std::string text;
    for (const std::string& l : files[i]) text += l;
    if (linked[i]) {
      put(s.outside / kFiles[i], text);
      fs::remove(s.dir / kFiles[i]);
      fs::create_symlink(s.outside / kFiles[i], s.dir / kFiles[i]);
    } else {
      put(s.dir / kFiles[i], text);
    }
  }
  try {
    const RunRecord r = RunStore::load(s.dir);
    for (bool l : linked)
      if (l) __builtin_trap();  // read through a link
    for (const EvaluationSnapshot& e : r.evaluations)
      for (const FamilyEvaluation& f : e.families) {
        const auto it = s.evaluations.find({e.step, f.variant});
        if (it == s.evaluations.end() || !same(f, it->second)) __builtin_trap();  // a figure the run never recorded
      }
    for (const TrainPoint& p : r.train) {
      const auto it = s.train.find({p.step, p.variant});
      if (it == s.train.end() || it->second.loss != p.loss) __builtin_trap();
      const TrainPoint& q = it->second;
      if (p.hasParts && (!q.hasParts || p.objective != q.objective || p.balance != q.balance ||
                         p.sampleEntropy != q.sampleEntropy || p.batchEntropy != q.batchEntropy))
        __builtin_trap();
    }
  } catch (const ReadError&) {
  } catch (const ConfigError&) {
  }
  return 0;
}
