// Files that never lie: every write checked, whole files replaced atomically (temp file,
// fsync, rename, as QSaveFile does), appends rolled back when they fail, reads bounded in
// size, records checksummed, folders locked against a second writer. No torch, no Qt.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "modlab/errors.h"

namespace modlab {

inline constexpr std::size_t kMaxConfigBytes = std::size_t{4} << 20;  // configs, grids, run.json
inline constexpr std::size_t kMaxLogBytes = std::size_t{1} << 30;     // metrics.csv, activations.jsonl

// CRC-32 (IEEE 802.3, as zlib and PNG), and as 8 lower-case hex digits.
std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0);
std::string crc32Hex(std::string_view bytes);

// The whole file; throws ReadError when it is missing, unreadable, larger than maxBytes or a
// symbolic link (a file of a run or sweep folder is read where it is, never through a link).
std::string readFile(const std::filesystem::path& path, std::size_t maxBytes = kMaxConfigBytes);
// The same for a file the user named (a config, a grid): a link there is the user's own.
std::string readUserFile(const std::filesystem::path& path, std::size_t maxBytes = kMaxConfigBytes);
// Whether `path` itself is a symbolic link (not followed).
bool isLink(const std::filesystem::path& path);
// Replaces `path` with `content` atomically and durably; throws WriteError (the old file stays).
// No write here follows a link: a link at `path` is replaced, never written through.
void writeFileAtomic(const std::filesystem::path& path, std::string_view content);
// Overwrites `path` in place, without a temporary file: the last resort of a full disk,
// where a small file's existing blocks are the only space left. Throws WriteError.
void overwriteInPlace(const std::filesystem::path& path, std::string_view content);
// Appends `text` completely or not at all (the file is cut back on failure); throws WriteError.
void appendFile(const std::filesystem::path& path, std::string_view text);
// Forces what was appended to `path` onto the disk (before a checkpoint commits to it).
void syncFile(const std::filesystem::path& path);

// The text of a value cut to `limit` characters for an error message.
std::string truncatedForMessage(std::string_view text, std::size_t limit = 80);

// An exclusive lock on a folder (flock on FOLDER/.lock), held until destroyed. A lock left
// by a dead process is free again (the kernel releases it), so it is simply taken over.
class FolderLock {
public:
  // Throws WriteError when the lock file cannot be created, and ConfigError(field) naming the
  // holder's pid and host when another process holds the lock.
  static std::unique_ptr<FolderLock> acquire(const std::filesystem::path& folder, const std::string& field,
                                             const std::string& what);
  // nullptr when another process holds it (its pid and host in *holder).
  static std::unique_ptr<FolderLock> tryAcquire(const std::filesystem::path& folder, std::string* holder = nullptr);
  // A shared lock (several readers or runners) that excludes an exclusive one.
  static std::unique_ptr<FolderLock> tryAcquireShared(const std::filesystem::path& folder, std::string* holder = nullptr);
  // Whether a live process holds the folder's lock (for status displays).
  static bool isHeld(const std::filesystem::path& folder, std::string* holder = nullptr);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

private:
  explicit FolderLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace modlab
