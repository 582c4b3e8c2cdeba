#include "modlab/experiment/run_store.h"

#include <algorithm>
#include <cstdint>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <functional>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "modlab/experiment/run_follower.h"

namespace modlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kCsvHeader = "step,family,split,metric,value,crc32\n";
const char* kLegacyCsvHeader = "step,family,split,metric,value";  // before checksums: read, never written

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string csvRecord(const std::string& payload) { return payload + "," + crc32Hex(payload) + "\n"; }

// A JSON object with "crc32": the CRC-32 of its compact dump without that member. Records of
// activations.jsonl and the whole of config.json and run.json carry it.
json withChecksum(json j) {
  j.erase("crc32");
  j["crc32"] = crc32Hex(j.dump());
  return j;
}

// Whether the object's "crc32" matches what it holds (the member is removed); nullopt when it
// carries none.
std::optional<bool> checksumMatches(json& j) {
  if (!j.contains("crc32")) return std::nullopt;
  const json crc = j["crc32"];
  j.erase("crc32");
  return crc.is_string() && crc32Hex(j.dump()) == crc.get<std::string>();
}

std::string jsonRecord(json j) { return withChecksum(std::move(j)).dump() + "\n"; }

// A whole JSON file of a run (config.json, run.json) carries "crc32": the CRC-32 of its compact
// dump without that member, so one flipped bit anywhere is found.
std::string checksummedJson(json j) { return withChecksum(std::move(j)).dump(2) + "\n"; }

// The object of such a file, its checksum verified and removed. `hasChecksum` says whether it
// had one (runs of versions before checksums covered these files have none).
json verifiedJson(const fs::path& path, const std::string& text, bool* hasChecksum) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw ReadError(path.string() + " is damaged: it is not the JSON object Modularity Lab writes");
  const std::optional<bool> matches = checksumMatches(j);
  *hasChecksum = matches.has_value();
  if (matches == false)
    throw ReadError(path.string() + " is damaged: it does not match its checksum (it was changed after Modularity Lab wrote it)");
  return j;
}

std::string splitName(const ConditionResult& c, bool perLength) {
  std::string s = c.scale == 1.0 ? "id" : "ood";
  return perLength ? s + "@" + std::to_string(c.length) : s;
}

void csvCondition(std::string& out, std::int64_t step, const std::string& family, const std::string& split,
                  const ConditionResult& c) {
  const std::string prefix = std::to_string(step) + "," + family + "," + split;
  out += csvRecord(prefix + ",loss," + number(c.loss));
  out += csvRecord(prefix + ",error," + number(c.error));
}

const std::pair<const char*, double SpecialisationMetrics::*> kMetricFields[] = {
    {"collapse_avg", &SpecialisationMetrics::collapseAvg},
    {"collapse_worst", &SpecialisationMetrics::collapseWorst},
    {"alignment", &SpecialisationMetrics::alignment},
    {"adaptation", &SpecialisationMetrics::adaptation},
    {"inverse_mi", &SpecialisationMetrics::inverseMutualInformation},
};

std::vector<std::string> splitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

// One record of a log, checked: `payload` is the record without its checksum.
struct Record {
  std::size_t line = 0;  // 1-based
  std::string payload;   // metrics.csv: "step,family,split,metric,value"; activations: the JSON object
  std::int64_t step = 0;
};

// The records of an appended log. A damaged last line is a torn tail (a kill mid-write):
// dropped, with a warning. A damaged line before it means the file was altered: ReadError.
struct Log {
  std::vector<Record> records;
  std::string warning;
};

// Where reading a log stands: the lines taken, and whether metrics.csv has the header of the
// versions before checksums.
struct LogCursor {
  std::size_t lines = 0;
  bool legacy = false;
};

bool parseStep(const std::string& text, std::int64_t& step) {
  if (text.empty() || text.size() > 18) return false;
  step = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    step = step * 10 + (c - '0');
  }
  return true;
}

bool checkCsvRecord(const std::string& line, bool legacy, Record& r) {
  const auto cells = splitCsv(line);
  if (cells.size() != (legacy ? 5u : 6u)) return false;
  r.payload = legacy ? line : line.substr(0, line.size() - cells[5].size() - 1);
  if (!legacy && crc32Hex(r.payload) != cells[5]) return false;
  return parseStep(cells[0], r.step);
}

bool checkJsonRecord(const std::string& line, Record& r) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) return false;
  if (checksumMatches(j) == false) return false;
  r.payload = j.dump();
  r.step = j["step"].get<std::int64_t>();
  return true;
}

// Takes the lines of `text` (a log from the line after at.lines): the header, and every line
// that checks, each record handed to `use`. Returns the bytes taken. A line that does not check
// with anything after it is damage (ReadError); a last line that does not check, or is not
// complete, is left: a torn tail, or a line still being written.
std::size_t takeLines(const fs::path& path, bool csv, const std::string& text, LogCursor& at,
                      const std::function<void(Record&&)>& use) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find('\n', pos);
    const bool complete = end != std::string::npos;
    const std::string line = text.substr(pos, complete ? end - pos : std::string::npos);
    const std::size_t next = complete ? end + 1 : text.size();
    const std::size_t number = at.lines + 1;
    if (csv && number == 1) {
      at.legacy = line == kLegacyCsvHeader;
      if (!at.legacy && line + "\n" != kCsvHeader)
        throw ReadError(path.string() + " line 1 is not a Modularity Lab metrics header");
    } else {
      Record r;
      r.line = number;
      if (!complete || !(csv ? checkCsvRecord(line, at.legacy, r) : checkJsonRecord(line, r))) {
        if (next < text.size())
          throw ReadError(path.string() + " line " + std::to_string(number) +
                          " is damaged (its checksum or format does not match): the run's record cannot be trusted");
        return pos;
      }
      use(std::move(r));
    }
    at.lines = number;
    pos = next;
  }
  return pos;
}

// A whole log. A torn last line is dropped with a warning.
Log readLog(const fs::path& path, bool csv) {
  const std::string text = readFile(path, kMaxLogBytes);
  Log log;
  LogCursor at;
  if (takeLines(path, csv, text, at, [&](Record&& r) { log.records.push_back(std::move(r)); }) < text.size())
    log.warning = path.filename().string() + ": dropped a torn last line " + std::to_string(at.lines + 1) +
                  " (the process was stopped while writing it)";
  if (csv && at.lines == 0) throw ReadError(path.string() + " is empty (no header)");
  return log;
}

// What one evaluation of a model writes to metrics.csv ("split,metric"), from the config:
// ID, OoD and validation loss and error, each evaluation length's (MHA, RNN), and the five
// metrics of a modular family, which also writes one activation record.
std::set<std::string> expectedEvaluationRows(const ExperimentConfig& config, Family family) {
  std::set<std::string> rows;
  std::vector<std::string> splits{"id", "ood", "val"};
  if (config.setting != Setting::Mlp)
    for (int length : config.evalLengths)
      for (const char* scale : {"id@", "ood@"}) splits.push_back(scale + std::to_string(length));
  for (const std::string& split : splits)
    for (const char* metric : {"loss", "error"}) rows.insert(split + "," + metric);
  if (isModular(family))
    for (const auto& [metric, field] : kMetricFields) rows.insert(std::string("metrics,") + metric);
  return rows;
}

// What a model's evaluation lacks, named for a message ("" when complete).
std::string missingParts(const ExperimentConfig& config, Family family, const std::set<std::string>& seen, bool activation) {
  std::string missing;
  for (const std::string& row : expectedEvaluationRows(config, family))
    if (!seen.count(row)) missing += (missing.empty() ? "" : ", ") + row;
  if (isModular(family) && !activation) missing += std::string(missing.empty() ? "" : ", ") + "its activation record";
  return missing;
}

json infoToJson(const RunInfo& i) {
  json lr = json::array();
  for (const auto& [step, value] : i.learningRateChanges) lr.push_back({{"step", step}, {"learning_rate", value}});
  json routing = json::array();
  for (const RoutingChange& c : i.routingChanges) {
    json change{{"step", c.step}, {"key", c.key}, {"value", c.value}};
    if (!c.variant.empty()) change["variant"] = c.variant;
    routing.push_back(change);
  }
  return json{{"status", i.status},       {"version", i.version},         {"torch_version", i.torchVersion},
              {"device", i.device},       {"started", i.started},         {"updated", i.updated},
              {"wall_seconds", i.wallSeconds}, {"steps_done", i.stepsDone}, {"checkpoint_step", i.checkpointStep},
              {"error", i.error},         {"families", i.familyStates},   {"learning_rate_changes", lr},
              {"routing_changes", routing}};
}

// A step count: a whole number in range (nlohmann's get<int64_t> casts a float such as 1e45
// without a check, which is undefined behaviour); `fallback` when the key is absent.
std::int64_t stepField(const json& j, const char* key, std::int64_t fallback) {
  if (!j.contains(key)) return fallback;
  const json& v = j.at(key);
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    throw ReadError(std::string("\"") + key + "\" is " + v.dump() + ", beyond any step count");
  if (!v.is_number_integer()) throw ReadError(std::string("\"") + key + "\" is " + v.dump() + ", not a whole number");
  return v.get<std::int64_t>();
}

RunInfo infoFromJson(const json& j) {
  RunInfo i;
  i.status = j.value("status", "");
  i.version = j.value("version", "");
  i.torchVersion = j.value("torch_version", "");
  i.device = j.value("device", "");
  i.started = j.value("started", "");
  i.updated = j.value("updated", "");
  i.wallSeconds = j.value("wall_seconds", 0.0);
  i.stepsDone = stepField(j, "steps_done", 0);
  i.checkpointStep = stepField(j, "checkpoint_step", -1);
  i.error = j.value("error", "");
  if (j.contains("families")) i.familyStates = j["families"].get<std::map<std::string, std::string>>();
  if (j.contains("learning_rate_changes"))
    for (const auto& c : j["learning_rate_changes"])
      i.learningRateChanges.emplace_back(stepField(c, "step", 0), c.at("learning_rate").get<double>());
  if (j.contains("routing_changes"))
    for (const auto& c : j["routing_changes"]) {
      RoutingChange change{stepField(c, "step", 0), c.at("key").get<std::string>(), c.at("value").get<double>(),
                           c.value("variant", "")};
      try {  // a change this version cannot make again is no record of how the run trained
        RoutingOptions probe;
        setRoutingCoefficient(probe, change.key, change.value);
      } catch (const InvalidArgument& e) {
        throw ReadError("its routing change at step " + std::to_string(change.step) + " is unusable: invalid " +
                        e.parameter() + " " + e.value() + " (allowed is " + e.allowed() + ")");
      }
      i.routingChanges.push_back(change);
    }
  return i;
}

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A file a checkpoint generation of ours holds: a family's or the session's archive, a
// divergence note, the manifest, or one of their temporary files.
bool isGenerationFile(const std::string& name) {
  const std::string base = endsWith(name, ".tmp") ? name.substr(0, name.size() - 4) : name;
  return base == "manifest.json" || endsWith(base, ".pt") || endsWith(base, ".diverged");
}

// Whether an entry of checkpoints/ is ours, by its name and by what it is: step-<n>/ folders
// holding only generation files, the latest pointer, and <variant>-best.pt/.json. Never a link.
bool isOurCheckpointEntry(const fs::directory_entry& entry) {
  const std::string name = entry.path().filename().string();
  if (entry.is_symlink()) return false;
  if (name.rfind("step-", 0) == 0 && name.size() > 5 &&
      name.find_first_not_of("0123456789", 5) == std::string::npos && entry.is_directory()) {
    for (const auto& inside : fs::directory_iterator(entry.path()))
      if (inside.is_symlink() || !inside.is_regular_file() || !isGenerationFile(inside.path().filename().string()))
        return false;
    return true;
  }
  if (!entry.is_regular_file()) return false;
  if (name == "latest" || name == "latest.tmp") return entry.file_size() < 64;
  for (const char* tail : {"-best.pt", "-best.json", "-best.pt.tmp", "-best.json.tmp"})
    if (endsWith(name, tail)) return true;
  return false;
}

// A config.json Modularity Lab wrote, even if damaged since: it carries our checksum member.
bool writtenByUs(const fs::path& config) {
  try {
    const json j = json::parse(readFile(config), nullptr, false);
    return j.is_object() && j.contains("crc32") && j["crc32"].is_string() && j.contains("setting");
  } catch (const std::exception&) {
    return false;
  }
}

const char* const kRunFiles[] = {"config.json", "metrics.csv", "activations.jsonl", "run.json"};

// Refuses a run folder any of whose parts is a symbolic link (a writer would write, and
// --force delete, wherever it leads).
void refuseLinkedParts(const fs::path& dir) {
  auto refuse = [&](const fs::path& part) {
    if (isLink(part))
      throw ConfigError("run", part.string() + " is a symbolic link: a run folder's parts are never links " +
                                   "(Modularity Lab would write or delete where it leads); replace it with the file itself");
  };
  for (const char* name : kRunFiles) refuse(dir / name);
  for (const char* name : {".lock", "checkpoints", "run.json.tmp", "config.json.tmp"}) refuse(dir / name);
  const fs::path checkpoints = dir / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(checkpoints, ec)) return;
  // A writer may add and remove generations meanwhile: what vanishes is skipped.
  for (fs::directory_iterator it(checkpoints, ec), end; !ec && it != end; it.increment(ec)) {
    refuse(it->path());
    std::error_code inner;
    if (!it->is_symlink(inner) && it->is_directory(inner))
      for (fs::directory_iterator in(it->path(), inner), stop; !inner && in != stop; in.increment(inner)) refuse(in->path());
  }
}

// The first entry of a run folder that is not ours (empty when all are).
fs::path firstForeignEntry(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const bool file = entry.is_regular_file() && !entry.is_symlink();
    if (file && (name == ".lock" || std::any_of(std::begin(kRunFiles), std::end(kRunFiles), [&](const char* n) {
                   return name == n || name == std::string(n) + ".tmp";
                 })))
      continue;
    if (name == "checkpoints" && entry.is_directory() && !entry.is_symlink()) {
      for (const auto& inside : fs::directory_iterator(entry.path()))
        if (!isOurCheckpointEntry(inside)) return inside.path();
      continue;
    }
    return entry.path();
  }
  return {};
}

// Removes what a run folder of ours holds, and nothing else.
void removeRunFiles(const fs::path& dir) {
  refuseLinkedParts(dir);
  for (const char* name : kRunFiles) fs::remove(dir / name);
  const fs::path checkpoints = dir / "checkpoints";
  if (!fs::is_directory(checkpoints)) return;
  for (const auto& entry : fs::directory_iterator(checkpoints))
    if (isOurCheckpointEntry(entry)) fs::remove_all(entry.path());
  std::error_code ec;
  fs::remove(checkpoints, ec);  // only when empty
}

// Whether `dir` holds nothing but what an interrupted create leaves: the lock, temporary
// files and an empty checkpoints/ (recognisably ours, and reusable).
bool holdsOnlyLeftovers(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_symlink()) return false;
    if (name == ".lock" && entry.is_regular_file()) continue;
    if (endsWith(name, ".tmp") && entry.is_regular_file() &&
        std::any_of(std::begin(kRunFiles), std::end(kRunFiles), [&](const char* n) { return name == std::string(n) + ".tmp"; }))
      continue;
    if (name == "checkpoints" && entry.is_directory() && fs::is_empty(entry.path())) continue;
    return false;
  }
  return true;
}

std::shared_ptr<FolderLock> lockRunFolder(const fs::path& dir, std::shared_ptr<FolderLock> held) {
  if (held) return held;
  return FolderLock::acquire(dir, "out", "run folder");
}

}  // namespace

std::string utcNow() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

fs::path defaultRunsFolder() {
  const auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : std::string();
  };
  if (const std::string runs = env("MODLAB_RUNS_DIR"); !runs.empty()) return runs;
  if (const std::string data = env("XDG_DATA_HOME"); !data.empty()) return fs::path(data) / "ModularityLab" / "runs";
  const std::string home = env("HOME");
  return fs::path(home.empty() ? "." : home) / ".local" / "share" / "ModularityLab" / "runs";
}

bool RunStore::holdsRun(const fs::path& dir) {
  try {
    RunStore(dir, nullptr).readConfig();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

RunStore RunStore::create(const fs::path& dir, const ExperimentConfig& config, bool overwrite,
                          std::shared_ptr<FolderLock> held) {
  // Everything that can fail on the config fails before the folder is touched.
  const std::string configText = checksummedJson(json::parse(toJson(config)));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw ConfigError("out", "cannot create run folder " + dir.string() + ": " + ec.message());
  refuseLinkedParts(dir);
  auto lock = lockRunFolder(dir, std::move(held));
  if (fs::exists(dir / "config.json") || fs::exists(dir / "run.json")) {
    if (!holdsRun(dir) && !writtenByUs(dir / "config.json"))
      throw ConfigError("out", "folder " + dir.string() +
                                   " holds a config.json that is not a Modularity Lab run: refusing to replace anything in it");
    if (!overwrite)
      throw ConfigError("out", "run folder " + dir.string() +
                                   " already holds a run: choose another folder, --resume it, or pass --force to replace it");
    // Everything is checked before anything is deleted: a folder with anything else in it is
    // left exactly as it was.
    if (const fs::path foreign = firstForeignEntry(dir); !foreign.empty())
      throw ConfigError("out", "run folder " + dir.string() + " also holds " + foreign.string() +
                                   ", which is not Modularity Lab's: --force replaces only what a run of ours holds; " +
                                   "move it away first or choose another folder");
    removeRunFiles(dir);
  }
  if (!holdsOnlyLeftovers(dir))
    throw ConfigError("out", "folder " + dir.string() +
                                 " is not empty and holds no Modularity Lab run: choose a new or empty folder");
  // config.json first: from its rename on, the folder is a run that --resume starts afresh
  // (no checkpoint yet) and --force replaces; before it, only leftovers that create reuses.
  RunStore store(dir, std::move(lock));
  writeFileAtomic(dir / "config.json", configText);
  writeFileAtomic(dir / "metrics.csv", kCsvHeader);
  writeFileAtomic(dir / "activations.jsonl", "");
  fs::create_directories(dir / "checkpoints", ec);
  if (ec) throw WriteError("cannot create " + (dir / "checkpoints").string() + ": " + ec.message());
  return store;
}

RunStore RunStore::openForWriting(const fs::path& dir, std::shared_ptr<FolderLock> held) {
  open(dir);
  RunStore store(dir, lockRunFolder(dir, std::move(held)));
  // A create interrupted after config.json has no checkpoints/ yet.
  std::error_code ec;
  fs::create_directories(store.checkpointDirectory(), ec);
  if (ec) throw WriteError("cannot create " + store.checkpointDirectory().string() + ": " + ec.message());
  return store;
}

void applyRoutingChange(std::vector<Variant>& variants, const ExperimentConfig& config, const RoutingChange& c) {
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const bool plain = i < config.families.size();
    if (isRouted(variants[i].family) && (c.variant.empty() ? plain : !plain && variants[i].name == c.variant))
      setRoutingCoefficient(variants[i].routing, c.key, c.value);
  }
}

std::vector<Variant> variantsAt(const ExperimentConfig& config, const std::vector<RoutingChange>& changes, std::int64_t step) {
  std::vector<Variant> variants = variantsOf(config);
  for (const RoutingChange& c : changes)
    if (c.step <= step) applyRoutingChange(variants, config, c);
  return variants;
}

RunStore RunStore::open(const fs::path& dir) {
  refuseLinkedParts(dir);
  if (!fs::exists(dir / "config.json"))
    throw ConfigError("run", "no run in " + dir.string() + " (config.json is missing)");
  return RunStore(dir, nullptr);
}

void RunStore::appendTrain(const std::vector<TrainPoint>& points) {
  if (points.empty()) return;
  std::string out;
  for (const TrainPoint& p : points) {
    const std::string prefix = std::to_string(p.step) + "," + p.variant + ",train,";
    out += csvRecord(prefix + "loss," + number(p.loss));
    if (!p.hasParts) continue;
    out += csvRecord(prefix + "objective," + number(p.objective));
    out += csvRecord(prefix + "balance," + number(p.balance));
    out += csvRecord(prefix + "sample_entropy," + number(p.sampleEntropy));
    out += csvRecord(prefix + "batch_entropy," + number(p.batchEntropy));
  }
  appendFile(dir_ / "metrics.csv", out);
}

void RunStore::appendEvaluation(const EvaluationSnapshot& e) {
  std::string csv, jsonl;
  for (const FamilyEvaluation& f : e.families) {
    const std::string& name = f.variant;
    csvCondition(csv, e.step, name, "id", f.id);
    csvCondition(csv, e.step, name, "ood", f.ood);
    csvCondition(csv, e.step, name, "val", f.validation);
    for (const ConditionResult& c : f.conditions) csvCondition(csv, e.step, name, splitName(c, true), c);
    if (!f.hasMetrics) continue;
    for (const auto& [metric, field] : kMetricFields)
      csv += csvRecord(std::to_string(e.step) + "," + name + ",metrics," + metric + "," + number(f.metrics.*field));
    json rows = json::array();
    for (int r = 0; r < f.rules; ++r)
      rows.push_back(std::vector<double>(f.moduleGivenRule.begin() + r * f.rules,
                                         f.moduleGivenRule.begin() + (r + 1) * f.rules));
    jsonl += jsonRecord(json{{"step", e.step}, {"wall_seconds", e.wallSeconds}, {"family", name}, {"module_given_rule", rows}});
  }
  appendFile(dir_ / "metrics.csv", csv);
  if (!jsonl.empty()) appendFile(dir_ / "activations.jsonl", jsonl);
}

void RunStore::writeInfo(const RunInfo& info) {
  const std::string text = checksummedJson(infoToJson(info));
  try {
    writeFileAtomic(dir_ / "run.json", text);
  } catch (const WriteError&) {
    // A full disk has no room for a temporary copy; the old file's own blocks may still
    // hold the new state, which matters most when it says "failed". Never through a link.
    overwriteInPlace(dir_ / "run.json", text);
  }
}

namespace {
// Whether a whole JSON file of the run carries a checksum member (absent file: false).
bool carriesChecksum(const fs::path& path) {
  if (!fs::exists(fs::symlink_status(path))) return false;
  const json j = json::parse(readFile(path), nullptr, false);
  return j.is_object() && j.contains("crc32");
}

// Runs written before config.json and run.json carried checksums have neither; a run that
// has one has both, so one removed (or a file swapped for an unchecked one) is found.
void requireBothOrNeither(const fs::path& path, const fs::path& other) {
  if (carriesChecksum(other))
    throw ReadError(path.string() + " is damaged: it carries no checksum although " + other.filename().string() +
                    " does (it was altered or replaced)");
}
}  // namespace

RunInfo RunStore::readInfo() const {
  const fs::path path = dir_ / "run.json";
  if (!fs::exists(fs::symlink_status(path))) return RunInfo{};
  bool checked = false;
  const json j = verifiedJson(path, readFile(path), &checked);
  if (!checked) requireBothOrNeither(path, dir_ / "config.json");
  try {
    return infoFromJson(j);
  } catch (const ReadError& e) {
    throw ReadError(path.string() + " is damaged: " + e.what());
  } catch (const json::exception&) {
    throw ReadError(path.string() + " is damaged: it is not the JSON Modularity Lab writes");
  }
}

ExperimentConfig RunStore::readConfig() const {
  const fs::path path = dir_ / "config.json";
  try {
    bool checked = false;
    const json j = verifiedJson(path, readFile(path), &checked);
    if (!checked) requireBothOrNeither(path, dir_ / "run.json");
    return parseConfig(j.dump());
  } catch (const ConfigError& e) {
    throw ConfigError("run", "run folder " + dir_.string() + " has an unusable config.json: " + e.what());
  } catch (const ReadError& e) {
    throw ConfigError("run", "run folder " + dir_.string() + " has an unreadable config.json: " + e.what());
  }
}

RunStore::Truncation RunStore::truncateAfter(std::int64_t step, const std::vector<std::string>& evaluated) {
  Truncation out;
  std::vector<std::string>& warnings = out.warnings;
  if (step < 0) {  // starting again: nothing recorded is kept, damaged or not
    writeFileAtomic(dir_ / "metrics.csv", kCsvHeader);
    writeFileAtomic(dir_ / "activations.jsonl", "");
    return out;
  }
  for (const char* name : {"metrics.csv", "activations.jsonl"})
    if (!fs::exists(fs::symlink_status(dir_ / name)))
      throw ReadError((dir_ / name).string() + " is missing: the run's record is incomplete and cannot be continued " +
                      "(start it again with --force)");
  const ExperimentConfig config = readConfig();
  const Log metrics = readLog(dir_ / "metrics.csv", true);
  const Log activations = readLog(dir_ / "activations.jsonl", false);
  for (const Log* log : {&metrics, &activations})
    if (!log->warning.empty()) warnings.push_back(log->warning);
  // The checkpoint's own evaluation: kept when every model it names is there, complete;
  // otherwise dropped whole, and the caller evaluates that step again.
  std::map<std::string, std::set<std::string>> seen;
  std::set<std::string> activationSeen;
  for (const Record& r : metrics.records) {
    const auto c = splitCsv(r.payload);
    if (r.step == step && c[2] != "train") seen[c[1]].insert(c[2] + "," + c[3]);
  }
  for (const Record& r : activations.records)
    if (r.step == step) activationSeen.insert(json::parse(r.payload).value("family", ""));
  std::string missing;
  for (const Variant& v : variantsOf(config)) {
    if (std::find(evaluated.begin(), evaluated.end(), v.name) == evaluated.end()) continue;
    const std::string lacks = missingParts(config, v.family, seen[v.name], activationSeen.count(v.name) > 0);
    if (!lacks.empty()) missing += (missing.empty() ? "" : "; ") + v.name + ": " + lacks;
  }
  const bool keepEvaluation = missing.empty();
  if (!keepEvaluation)
    warnings.push_back("the evaluation at step " + std::to_string(step) + " was incomplete in the record (" + missing +
                       "): it is evaluated again");
  std::string csv = kCsvHeader;
  for (const Record& r : metrics.records) {
    const bool evaluationRow = splitCsv(r.payload)[2] != "train";
    if (r.step < step || (r.step == step && (keepEvaluation || !evaluationRow))) csv += csvRecord(r.payload);
  }
  std::string jsonl;
  for (const Record& r : activations.records)
    if (r.step < step || (r.step == step && keepEvaluation)) jsonl += jsonRecord(json::parse(r.payload));
  writeFileAtomic(dir_ / "metrics.csv", csv);
  writeFileAtomic(dir_ / "activations.jsonl", jsonl);
  load(dir_);  // everything before the checkpoint must read back whole: throws ReadError otherwise
  out.evaluationKept = keepEvaluation;
  return out;
}

void RunStore::syncLogs() {
  syncFile(dir_ / "metrics.csv");
  syncFile(dir_ / "activations.jsonl");
}

RunRecord RunStore::loadFinished(const fs::path& dir) {
  RunRecord r = load(dir);
  const std::string where = (dir / "metrics.csv").string();
  if (r.info.status != "finished") throw ReadError((dir / "run.json").string() + " does not say finished");
  if (!r.warnings.empty()) throw ReadError(r.warnings.front() + ", although the run had finished");
  auto diverged = [&](const std::string& variant) {
    const auto it = r.info.familyStates.find(variant);
    return it != r.info.familyStates.end() && it->second.rfind("diverged", 0) == 0;
  };
  if (r.evaluations.empty()) throw ReadError(where + " holds no evaluation although run.json says finished");
  const EvaluationSnapshot& last = r.evaluations.back();
  if (last.step != r.info.stepsDone)
    throw ReadError(where + " ends at step " + std::to_string(last.step) + " but run.json says finished at step " +
                    std::to_string(r.info.stepsDone));
  for (const Variant& v : variantsOf(r.config)) {
    if (diverged(v.name)) continue;  // left out of evaluations from its divergence on
    const bool present = std::any_of(last.families.begin(), last.families.end(),
                                     [&](const FamilyEvaluation& e) { return e.variant == v.name; });
    if (!present) throw ReadError(where + " lacks the final evaluation of " + v.name);
  }
  return r;
}

namespace {

// The records of a run's logs read into training points and evaluations, incrementally: fed
// record by record (a whole file at load, what was appended at a follower's poll), it hands
// over what is complete. The one reader of run folders: RunStore::load and RunFollower.
class RecordParser {
public:
  RecordParser(fs::path dir, ExperimentConfig config) : dir_(std::move(dir)), config_(std::move(config)), variants_(variantsOf(config_)) {}
  // Salvaging: what is incomplete anywhere is left out with a warning instead of refused.
  void setSalvage(bool on) { salvage_ = on; }

  void metricsRecord(const Record& r) {
    const auto c = splitCsv(r.payload);
    const auto damaged = [&](const std::string& why) {
      return ReadError((dir_ / "metrics.csv").string() + " line " + std::to_string(r.line) + ": " + why);
    };
    const Variant* variant = variantNamed(c[1]);
    if (!variant) throw damaged("unknown model '" + truncatedForMessage(c[1]) + "' (config.json trains no model of that name)");
    double value;
    try {
      std::size_t used = 0;
      value = std::stod(c[4], &used);
      if (used != c[4].size()) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw damaged("bad value '" + truncatedForMessage(c[4]) + "'");
    }
    const std::string& split = c[2];
    const std::string& metric = c[3];
    lastStep_ = std::max(lastStep_, r.step);
    if (split == "train") {
      if (metric == "loss") {
        auto [last, first] = lastTrainStep_.try_emplace(variant->name, r.step);
        if (!first && r.step <= last->second)
          throw damaged("the training loss of " + variant->name + " at step " + std::to_string(r.step) +
                        " follows step " + std::to_string(last->second) + " (lines repeated or out of order)");
        last->second = r.step;
        train_.push_back({r.step, variant->name, value});
        parts_.push_back(0);
        return;
      }
      // A part of the loss: it follows its step's "loss" row.
      if (train_.empty() || train_.back().step != r.step || train_.back().variant != variant->name)
        throw damaged("train " + truncatedForMessage(metric) + " without its loss row");
      TrainPoint& p = train_.back();
      p.hasParts = true;
      int bit = 0;
      if (metric == "objective") p.objective = value, bit = 1;
      else if (metric == "balance") p.balance = value, bit = 2;
      else if (metric == "sample_entropy") p.sampleEntropy = value, bit = 4;
      else if (metric == "batch_entropy") p.batchEntropy = value, bit = 8;
      if (parts_.back() & bit) throw damaged("repeats train " + metric + " of " + variant->name);
      parts_.back() |= bit;
      return;
    }
    if (!seen_[{r.step, variant->name}].insert(split + "," + metric).second)
      throw damaged("repeats " + split + " " + truncatedForMessage(metric) + " of " + variant->name + " at step " +
                    std::to_string(r.step));
    FamilyEvaluation& f = familyEval(r.step, *variant);
    if (split == "metrics") {
      f.hasMetrics = true;
      for (const auto& [name, field] : kMetricFields)
        if (metric == name) f.metrics.*field = value;
      return;
    }
    ConditionResult* target = nullptr;
    if (split == "id") target = &f.id;
    else if (split == "ood") target = &f.ood;
    else if (split == "val") target = &f.validation;
    else if (const auto at = split.find('@'); at != std::string::npos) {
      const double scale = split.substr(0, at) == "ood" ? 2.0 : 1.0;
      std::int64_t length = 0;
      if (!parseStep(split.substr(at + 1), length) || length > 100000) throw damaged("bad split '" + split + "'");
      for (ConditionResult& cr : f.conditions)
        if (cr.length == length && cr.scale == scale) target = &cr;
      if (!target) {
        f.conditions.push_back({static_cast<int>(length), scale, 0.0, 0.0});
        target = &f.conditions.back();
      }
    }
    if (!target) return;
    if (metric == "loss") target->loss = value;
    else if (metric == "error") target->error = value;
  }

  void activationRecord(const Record& r) {
    try {
      const json j = json::parse(r.payload);
      const Variant* variant = variantNamed(j.at("family").get<std::string>());
      if (!variant) throw std::invalid_argument("unknown model");
      if (!activationSeen_.insert({r.step, variant->name}).second) throw std::invalid_argument("repeated");
      lastStep_ = std::max(lastStep_, r.step);
      FamilyEvaluation& f = familyEval(r.step, *variant);
      evals_[r.step].wallSeconds = j.value("wall_seconds", 0.0);
      const auto rows = j.at("module_given_rule").get<std::vector<std::vector<double>>>();
      for (const auto& row : rows)
        if (row.size() != rows.size()) throw std::invalid_argument("not square");
      f.rules = static_cast<int>(rows.size());
      f.moduleGivenRule.clear();
      for (const auto& row : rows) f.moduleGivenRule.insert(f.moduleGivenRule.end(), row.begin(), row.end());
    } catch (const std::exception&) {
      throw ReadError((dir_ / "activations.jsonl").string() + " line " + std::to_string(r.line) +
                      ": not an activation record (family and a square module_given_rule, once per model and step)");
    }
  }

  // Hands over what is complete and keeps the rest. `final`: nothing more will be written (a
  // whole file read at load, or a writer that is gone); then what is left incomplete at the very
  // end of the record is left out with a warning, and a gap before it is damage (ReadError).
  // While the run is written, the last training point (its parts may follow) and the
  // evaluations of the last step are kept back until more follows.
  void take(std::vector<TrainPoint>& train, std::vector<EvaluationSnapshot>& evaluations,
            std::vector<std::string>& warnings, bool final) {
    // A training loss split into its parts has all four, or none is shown.
    const std::size_t ready = final || train_.empty() ? train_.size() : train_.size() - 1;
    for (std::size_t i = 0; i < ready; ++i) {
      TrainPoint& p = train_[i];
      if (p.hasParts && parts_[i] != 15) {
        const std::string what = "the training loss of " + p.variant + " at step " + std::to_string(p.step) + " lacks parts";
        if (p.step != lastStep_ && !salvage_)
          throw ReadError((dir_ / "metrics.csv").string() + ": " + what + ": the run's record cannot be trusted");
        warnings.push_back(what + (p.step != lastStep_ ? "" : " (the process was stopped while writing it)") + ": they are left out");
        p.hasParts = false;
      }
      train.push_back(std::move(p));
    }
    train_.erase(train_.begin(), train_.begin() + static_cast<std::ptrdiff_t>(ready));
    parts_.erase(parts_.begin(), parts_.begin() + static_cast<std::ptrdiff_t>(ready));
    // Every figure a reader scores is present: a model's evaluation lacking a part is damage,
    // except at the very end of the record, where a stop mid-write leaves it (then it is left
    // out, with a warning, and a finished run with it is not scored).
    for (auto it = evals_.begin(); it != evals_.end();) {
      const std::int64_t step = it->first;
      if (!final && step >= lastStep_) break;  // its rows may still be coming
      EvaluationSnapshot& e = it->second;
      std::vector<FamilyEvaluation> complete;
      for (FamilyEvaluation& f : e.families) {
        const std::string missing =
            missingParts(config_, f.family, seen_[{step, f.variant}], activationSeen_.count({step, f.variant}) > 0);
        if (missing.empty()) {
          complete.push_back(std::move(f));
          continue;
        }
        const std::string what = "the evaluation of " + f.variant + " at step " + std::to_string(step) + " lacks " + missing;
        if (step != lastStep_ && !salvage_)
          throw ReadError((dir_ / "metrics.csv").string() + ": " + what + ": the run's record cannot be trusted");
        warnings.push_back(what + (step != lastStep_ ? "" : " (the process was stopped while writing it)") + ": left out");
      }
      e.families = std::move(complete);
      if (!e.families.empty()) evaluations.push_back(std::move(e));
      it = evals_.erase(it);
    }
  }

private:
  FamilyEvaluation& familyEval(std::int64_t step, const Variant& variant) {
    EvaluationSnapshot& e = evals_[step];
    e.step = step;
    for (FamilyEvaluation& f : e.families)
      if (f.variant == variant.name) return f;
    e.families.push_back(FamilyEvaluation{});
    e.families.back().variant = variant.name;
    e.families.back().family = variant.family;
    return e.families.back();
  }
  // A model's name in the logs: one of the config's (older runs name the families).
  const Variant* variantNamed(const std::string& name) const {
    for (const Variant& v : variants_)
      if (v.name == name) return &v;
    return nullptr;
  }

  fs::path dir_;
  ExperimentConfig config_;
  std::vector<Variant> variants_;
  std::vector<TrainPoint> train_;  // not yet handed over
  std::vector<int> parts_;         // per training point: which parts of its loss were read (bits)
  std::map<std::int64_t, EvaluationSnapshot> evals_;
  // What each (step, model) evaluation recorded, to tell complete from absent parts.
  std::map<std::pair<std::int64_t, std::string>, std::set<std::string>> seen_;
  std::set<std::pair<std::int64_t, std::string>> activationSeen_;
  std::int64_t lastStep_ = -1;
  std::map<std::string, std::int64_t> lastTrainStep_;
  bool salvage_ = false;
};

}  // namespace

RunRecord RunStore::load(const fs::path& dir) {
  const RunStore store = open(dir);
  RunRecord record;
  record.config = store.readConfig();
  record.info = store.readInfo();
  for (const char* name : {"metrics.csv", "activations.jsonl"})
    if (!fs::exists(dir / name)) throw ReadError((dir / name).string() + " is missing: the run's record is incomplete");
  RecordParser parser(dir, record.config);
  const Log metrics = readLog(dir / "metrics.csv", true);
  if (!metrics.warning.empty()) record.warnings.push_back(metrics.warning);
  for (const Record& r : metrics.records) parser.metricsRecord(r);
  const Log activations = readLog(dir / "activations.jsonl", false);
  if (!activations.warning.empty()) record.warnings.push_back(activations.warning);
  for (const Record& r : activations.records) parser.activationRecord(r);
  parser.take(record.train, record.evaluations, record.warnings, true);
  return record;
}

RunRecord RunStore::loadReadable(const fs::path& dir) {
  const RunStore store = open(dir);
  RunRecord record;
  record.config = store.readConfig();
  const auto damage = [&record](const std::string& what) {
    record.warnings.push_back(what);
    record.partial = true;
  };
  record.info = store.readInfo();
  RecordParser parser(dir, record.config);
  parser.setSalvage(true);
  // Each log up to its first line that cannot be read (a damaged line, or one that contradicts
  // what came before): the lines before it are shown, that line and the rest are not.
  const auto readable = [&](const char* name, bool csv) {
    const fs::path path = dir / name;
    std::string text;
    try {
      if (!fs::exists(path)) throw ReadError(path.string() + " is missing");
      text = readFile(path, kMaxLogBytes);
      LogCursor at;
      const std::size_t taken = takeLines(path, csv, text, at, [&](Record&& r) {
        if (csv) parser.metricsRecord(r);
        else parser.activationRecord(r);
      });
      if (taken < text.size()) record.warnings.push_back(path.filename().string() + ": dropped a torn last line " + std::to_string(at.lines + 1));
    } catch (const ReadError& e) {
      damage(std::string(e.what()) + "; what comes before it is shown");
    }
  };
  readable("metrics.csv", true);
  readable("activations.jsonl", false);
  const std::size_t before = record.warnings.size();
  parser.take(record.train, record.evaluations, record.warnings, true);
  if (record.warnings.size() > before) record.partial = true;
  return record;
}

// One log being followed: where the next read starts, the lines read so far, and the file
// it was read from (a replaced file is read again from its start).
struct FollowedLog {
  fs::path path;
  bool csv = false;
  std::uint64_t offset = 0;
  LogCursor at;
  ino_t inode = 0;
};

struct RunFollower::Impl {
  fs::path dir;
  ExperimentConfig config;
  std::unique_ptr<RecordParser> parser;
  FollowedLog metrics, activations;

  void restart() {
    parser = std::make_unique<RecordParser>(dir, config);
    metrics = FollowedLog{dir / "metrics.csv", true};
    activations = FollowedLog{dir / "activations.jsonl", false};
  }

  // Whether the log was replaced since it was last read (a resume writes it anew).
  static bool replaced(const FollowedLog& log) {
    struct stat st {};
    if (::lstat(log.path.c_str(), &st) != 0) return log.offset > 0;
    return (log.inode != 0 && st.st_ino != log.inode) || static_cast<std::uint64_t>(st.st_size) < log.offset;
  }

  // Reads what was appended since the last read and feeds its records to the parser; a last
  // line that does not check yet is read again at the next poll (it may be being written).
  void readNew(FollowedLog& log, bool writing, std::vector<std::string>& warnings) {
    const int fd = ::open(log.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT && writing) return;  // not created yet
      throw ReadError("cannot read " + log.path.string() + ": " + std::strerror(errno));
    }
    struct stat st {};
    ::fstat(fd, &st);
    log.inode = st.st_ino;
    const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    if (size > kMaxLogBytes) {
      ::close(fd);
      throw ReadError("cannot read " + log.path.string() + ": larger than the most allowed for a log");
    }
    std::string text(size > log.offset ? size - log.offset : 0, '\0');
    std::size_t got = 0;
    while (got < text.size()) {
      const ssize_t n = ::pread(fd, text.data() + got, text.size() - got, static_cast<off_t>(log.offset + got));
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(got);
    const std::size_t taken = takeLines(log.path, log.csv, text, log.at, [&](Record&& r) {
      if (log.csv) parser->metricsRecord(r);
      else parser->activationRecord(r);
    });
    log.offset += taken;
    if (taken < text.size() && !writing)
      warnings.push_back(log.path.filename().string() + ": left out a torn last line " + std::to_string(log.at.lines + 1));
  }
};

RunFollower::RunFollower(const fs::path& dir) : impl_(std::make_unique<Impl>()) {
  impl_->dir = dir;
  impl_->config = RunStore::open(dir).readConfig();
  impl_->restart();
}

RunFollower::~RunFollower() = default;

const ExperimentConfig& RunFollower::config() const { return impl_->config; }

RunFollower::Update RunFollower::poll() {
  Update u;
  Impl& f = *impl_;
  u.info = RunStore::open(f.dir).readInfo();  // open() refuses a folder whose parts are links  // throws ReadError when run.json is damaged, as load does
  // Written still: a live process holds the lock and the run has not ended (an app keeps the
  // lock of a session that finished or stopped until it starts another).
  const std::string& status = u.info.status;
  u.writing = FolderLock::isHeld(f.dir) && (status == "created" || status == "running" || status == "paused");
  if (Impl::replaced(f.metrics) || Impl::replaced(f.activations)) {
    f.restart();
    u.restarted = true;
  }
  f.readNew(f.metrics, u.writing, u.warnings);
  f.readNew(f.activations, u.writing, u.warnings);
  f.parser->take(u.train, u.evaluations, u.warnings, !u.writing);
  return u;
}

}  // namespace modlab
