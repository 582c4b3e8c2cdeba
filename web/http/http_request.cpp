#include "web/http/http_request.h"

#include <algorithm>
#include <cctype>

namespace modlab::web {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 token characters (header names, methods).
bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos))
      return false;
  return true;
}

bool hasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> percentDecode(std::string_view text, bool plusIsSpace) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hexValue(text[i + 1]), lo = hexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::string percentEncode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::optional<Target> parseTarget(std::string_view target) {
  if (target.empty() || target.front() != '/' || target.find('#') != std::string_view::npos) return std::nullopt;
  Target out;
  const std::size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  path.remove_prefix(1);
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view raw = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (raw.empty()) continue;  // "a//b", a trailing '/'
    auto segment = percentDecode(raw);
    if (!segment) return std::nullopt;
    if (*segment == "." || *segment == ".." || segment->find_first_of("/\\") != std::string::npos) out.leavesRoot = true;
    out.segments.push_back(std::move(*segment));
  }
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto key = percentDecode(pair.substr(0, eq), true);
    auto value = percentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    out.query.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

std::string HttpRequest::queryValue(std::string_view key) const {
  for (const auto& [k, v] : query)
    if (k == key) return v;
  return {};
}

std::vector<std::string> HttpRequest::queryValues(std::string_view key) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query)
    if (k == key) out.push_back(v);
  return out;
}

bool HttpRequest::keepAlive() const {
  const std::string connection = lower(header("connection"));
  if (version == "HTTP/1.0") return connection == "keep-alive";
  return connection.find("close") == std::string::npos;
}

RequestParser::Status RequestParser::fail(int status, std::string reason) {
  status_ = Status::Error;
  errorStatus_ = status;
  errorReason_ = std::move(reason);
  return status_;
}

RequestParser::Status RequestParser::feed(std::string_view bytes) {
  if (status_ != Status::NeedMore) return status_;
  const std::size_t searchFrom = buffer_.size() >= 3 ? buffer_.size() - 3 : 0;
  buffer_.append(bytes);
  // Clients may send empty lines before a request (RFC 9112 2.2).
  while (buffer_.size() >= 2 && buffer_.compare(0, 2, "\r\n") == 0) buffer_.erase(0, 2);
  const std::size_t end = buffer_.find("\r\n\r\n", std::min(searchFrom, buffer_.size()));
  if (end == std::string::npos) {
    if (buffer_.size() > limits_.maxRequestBytes) return fail(431, "the request's headers exceed " + std::to_string(limits_.maxRequestBytes) + " bytes");
    if (buffer_.find('\n') == std::string::npos && buffer_.size() > limits_.maxTargetBytes + 32)
      return fail(414, "the request line exceeds " + std::to_string(limits_.maxTargetBytes) + " bytes");
    return status_;
  }
  if (end + 4 > limits_.maxRequestBytes) return fail(431, "the request's headers exceed " + std::to_string(limits_.maxRequestBytes) + " bytes");
  headEnd_ = end + 4;
  return parse(std::string_view(buffer_).substr(0, end));
}

RequestParser::Status RequestParser::parse(std::string_view head) {
  const std::size_t lineEnd = head.find("\r\n");
  const std::string_view line = head.substr(0, lineEnd);
  std::string_view rest = lineEnd == std::string_view::npos ? std::string_view() : head.substr(lineEnd + 2);
  const std::size_t s1 = line.find(' '), s2 = s1 == std::string_view::npos ? s1 : line.find(' ', s1 + 1);
  if (s2 == std::string_view::npos || line.find(' ', s2 + 1) != std::string_view::npos)
    return fail(400, "a malformed request line");
  request_.method = std::string(line.substr(0, s1));
  request_.target = std::string(line.substr(s1 + 1, s2 - s1 - 1));
  request_.version = std::string(line.substr(s2 + 1));
  if (!isToken(request_.method)) return fail(400, "a malformed method");
  if (request_.version != "HTTP/1.1" && request_.version != "HTTP/1.0")
    return fail(505, "HTTP version '" + request_.version.substr(0, 16) + "' (1.0 and 1.1 are served)");
  if (request_.target.size() > limits_.maxTargetBytes) return fail(414, "the target exceeds " + std::to_string(limits_.maxTargetBytes) + " bytes");
  if (hasControl(request_.target)) return fail(400, "control characters in the target");
  while (!rest.empty()) {
    const std::size_t e = rest.find("\r\n");
    const std::string_view field = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    if (static_cast<int>(request_.headers.size()) >= limits_.maxHeaders)
      return fail(431, "more than " + std::to_string(limits_.maxHeaders) + " header fields");
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos || !isToken(field.substr(0, colon)))
      return fail(400, "a malformed header field");
    const std::string_view value = trim(field.substr(colon + 1));
    if (hasControl(value)) return fail(400, "control characters in a header field");
    request_.headers.emplace_back(lower(field.substr(0, colon)), std::string(value));
  }
  if (request_.method != "GET" && request_.method != "HEAD")
    return fail(405, "method " + request_.method.substr(0, 16) + " (this server is read-only: GET and HEAD)");
  const std::string length = request_.header("content-length");
  if (!request_.header("transfer-encoding").empty() || (!length.empty() && length != "0"))
    return fail(413, "a request body (this server takes none)");
  if (request_.version == "HTTP/1.1" && request_.header("host").empty()) return fail(400, "no Host header");
  auto target = parseTarget(request_.target);
  if (!target) return fail(400, "a malformed target (an origin-form path with valid escapes and no NUL)");
  request_.segments = std::move(target->segments);
  request_.leavesRoot = target->leavesRoot;
  request_.query = std::move(target->query);
  status_ = Status::Complete;
  return status_;
}

std::string RequestParser::takeRemainder() {
  std::string rest = status_ == Status::Complete ? buffer_.substr(headEnd_) : std::string();
  *this = RequestParser(limits_);
  return rest;
}

}  // namespace modlab::web
