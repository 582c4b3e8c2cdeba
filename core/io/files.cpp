#include "modlab/io/files.h"

#include <array>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>


namespace modlab {

namespace fs = std::filesystem;

namespace {

std::string osError(int error) { return std::strerror(error); }

// ELOOP from an O_NOFOLLOW open: the last part of the path is a symbolic link.
std::string reasonOf(int error) {
  return error == ELOOP ? "it is a symbolic link, and Modularity Lab never follows a link inside a run or sweep folder"
                        : osError(error);
}

[[noreturn]] void writeFailed(const fs::path& path, const std::string& doing, int error) {
  throw WriteError("cannot " + doing + " " + path.string() + ": " + reasonOf(error));
}

// Writes all of `bytes` to fd; false (errno set) on any failure, a short write included.
bool writeAll(int fd, std::string_view bytes) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = ENOSPC;
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

class Fd {
public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close() reports delayed write errors (NFS, some full-disk cases).
  int release() {
    const int r = ::close(fd_);
    fd_ = -1;
    return r;
  }

private:
  int fd_;
};

void syncFolder(const fs::path& folder) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: some filesystems do not open folders
  ::fsync(fd);
  ::close(fd);
}

std::string hostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "unknown host";
  return host;
}

int openLockFile(const fs::path& folder) {
  const fs::path path = folder / ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) writeFailed(path, "create the lock file", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    writeFailed(path, "use the lock file", EINVAL);
  }
  return fd;
}

std::string readHolder(int fd) {
  char buf[512] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string text = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "another process" : text;
}

std::unique_ptr<FolderLock> lockWith(const fs::path& folder, int operation, std::string* holder, bool writeHolder,
                                     FolderLock* (*make)(int)) {
  const int fd = openLockFile(folder);
  if (::flock(fd, operation | LOCK_NB) != 0) {
    if (holder) *holder = readHolder(fd);
    ::close(fd);
    return nullptr;
  }
  if (writeHolder) {
    const std::string me = "process " + std::to_string(::getpid()) + " on " + hostName() + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
      // The lock is held all the same; only the holder's description is missing.
    }
  }
  return std::unique_ptr<FolderLock>(make(fd));
}

}  // namespace

std::uint32_t crc32(std::string_view bytes, std::uint32_t crc) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (const char ch : bytes) crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

std::string crc32Hex(std::string_view bytes) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", crc32(bytes));
  return buf;
}

namespace {
std::string readWith(const fs::path& path, std::size_t maxBytes, int flags) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) throw ReadError("cannot read " + path.string() + ": " + reasonOf(errno));
  Fd file(fd);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) throw ReadError("cannot read " + path.string() + ": it is a folder");
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ReadError("cannot read " + path.string() + ": " + osError(errno));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > maxBytes)
      throw ReadError("cannot read " + path.string() + ": larger than " + std::to_string(maxBytes >> 10) +
                      " KiB, the most allowed for this kind of file");
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}
}  // namespace

std::string readFile(const fs::path& path, std::size_t maxBytes) { return readWith(path, maxBytes, O_NOFOLLOW); }

std::string readUserFile(const fs::path& path, std::size_t maxBytes) { return readWith(path, maxBytes, 0); }

bool isLink(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

void writeFileAtomic(const fs::path& path, std::string_view content) {
  const fs::path tmp = path.string() + ".tmp";
  // A leftover temporary file (or a link planted in its place) goes; a folder in its place stays
  // and makes the open fail. O_EXCL never writes through a link.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT && errno != EISDIR && errno != EPERM) writeFailed(tmp, "replace", errno);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) writeFailed(tmp, "create", errno);
  Fd file(fd);
  auto fail = [&](const char* doing) {
    const int error = errno;
    file.release();
    ::unlink(tmp.c_str());
    writeFailed(path, doing, error);
  };
  if (!writeAll(fd, content)) fail("write");
  if (::fsync(fd) != 0) fail("write (fsync)");
  if (file.release() != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    writeFailed(path, "write (close)", error);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    writeFailed(path, "replace", error);
  }
  syncFolder(path.parent_path());
}

void overwriteInPlace(const fs::path& path, std::string_view content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) writeFailed(path, "open", errno);
  Fd file(fd);
  if (!writeAll(fd, content) || ::ftruncate(fd, static_cast<off_t>(content.size())) != 0 || ::fsync(fd) != 0)
    writeFailed(path, "write", errno);
  if (file.release() != 0) writeFailed(path, "write (close)", errno);
}

void appendFile(const fs::path& path, std::string_view text) {
  if (text.empty()) return;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) writeFailed(path, "append to", errno);
  Fd file(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) writeFailed(path, "append to", errno);
  if (!writeAll(fd, text)) {
    const int error = errno;
    // All or nothing: cut the file back so no partial record is left behind.
    if (::ftruncate(fd, st.st_size) != 0) {
      // The reader's checksums still find the torn record.
    }
    writeFailed(path, "append to", error);
  }
  if (file.release() != 0) writeFailed(path, "append to", errno);
}

void syncFile(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) writeFailed(path, "sync", errno);
  Fd file(fd);
  if (::fsync(fd) != 0) writeFailed(path, "sync", errno);
}

std::string truncatedForMessage(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  return std::string(text.substr(0, limit)) + "... (" + std::to_string(text.size()) + " characters)";
}

std::unique_ptr<FolderLock> FolderLock::acquire(const fs::path& folder, const std::string& field, const std::string& what) {
  std::string holder;
  auto lock = tryAcquire(folder, &holder);
  if (!lock)
    throw ConfigError(field, what + " " + folder.string() + " is in use by " + holder +
                                 ": wait for it to finish or stop it first");
  return lock;
}

std::unique_ptr<FolderLock> FolderLock::tryAcquire(const fs::path& folder, std::string* holder) {
  return lockWith(folder, LOCK_EX, holder, true, [](int fd) { return new FolderLock(fd); });
}

std::unique_ptr<FolderLock> FolderLock::tryAcquireShared(const fs::path& folder, std::string* holder) {
  return lockWith(folder, LOCK_SH, holder, false, [](int fd) { return new FolderLock(fd); });
}

bool FolderLock::isHeld(const fs::path& folder, std::string* holder) {
  const fs::path path = folder / ".lock";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  Fd file(fd);
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) return false;  // closing the fd releases it
  if (holder) *holder = readHolder(fd);
  return true;
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace modlab
