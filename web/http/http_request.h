// Reading one HTTP/1.1 request from the bytes a client sends, within hard limits (size,
// header count, target length), and the parts of its target: the percent-decoded path
// segments and the query. Plain C++ (no Qt): the libFuzzer harness builds it on its own.
// Only what a read-only server needs: GET and HEAD, no request bodies.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modlab::web {

struct HttpLimits {
  std::size_t maxRequestBytes = 16 * 1024;  // request line and headers together
  std::size_t maxTargetBytes = 4 * 1024;
  int maxHeaders = 64;
};

struct HttpRequest {
  std::string method;   // GET or HEAD
  std::string target;   // as sent, e.g. /api/run/a%20b?width=800
  std::string version;  // HTTP/1.0 or HTTP/1.1
  std::vector<std::string> segments;  // the path, split at '/' and percent-decoded
  bool leavesRoot = false;  // a '.' or '..' segment, or one with an escaped '/' or '\\': never served
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string header(std::string_view name) const;  // "" when absent
  std::string queryValue(std::string_view key) const;  // the first value, "" when absent
  std::vector<std::string> queryValues(std::string_view key) const;
  bool keepAlive() const;
};

class RequestParser {
public:
  explicit RequestParser(HttpLimits limits = {}) : limits_(limits) {}
  enum class Status { NeedMore, Complete, Error };
  // Adds bytes; Complete once the headers have ended (the bytes after them stay buffered for
  // the next request on the connection: takeRemainder).
  Status feed(std::string_view bytes);
  Status status() const { return status_; }
  const HttpRequest& request() const { return request_; }
  int errorStatus() const { return errorStatus_; }  // 400, 405, 413, 414, 431, 501, 505
  const std::string& errorReason() const { return errorReason_; }
  std::string takeRemainder();  // what followed a complete request; resets the parser

private:
  Status fail(int status, std::string reason);
  Status parse(std::string_view head);
  HttpLimits limits_;
  std::string buffer_;
  Status status_ = Status::NeedMore;
  HttpRequest request_;
  int errorStatus_ = 0;
  std::string errorReason_;
  std::size_t headEnd_ = 0;
};

// Percent-decoding; nullopt for a bad escape or a decoded NUL. With `plusIsSpace` (a query).
std::optional<std::string> percentDecode(std::string_view text, bool plusIsSpace = false);
// Splits a request target into decoded path segments and query pairs. nullopt when it is not
// an origin-form target ("/..."), has a fragment, a bad escape or a NUL.
struct Target {
  std::vector<std::string> segments;
  bool leavesRoot = false;  // a "." or ".." segment, or an escaped '/' or '\\' in one
  std::vector<std::pair<std::string, std::string>> query;
};
std::optional<Target> parseTarget(std::string_view target);
// Percent-encodes one path segment or query value (unreserved characters kept).
std::string percentEncode(std::string_view text);

}  // namespace modlab::web
