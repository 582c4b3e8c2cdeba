// The browser view's request reader: any bytes from a client, in any chunking, must end in
// a complete request within the limits or a 4xx/5xx refusal, never a crash, a hang or a read
// past the input; and a complete request's path never steps out of the served folder.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "web/http/http_request.h"

using modlab::web::RequestParser;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte chooses how the rest is cut into reads (as TCP may deliver it).
  const std::size_t chunk = 1 + data[0] % 64;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  RequestParser parser(modlab::web::HttpLimits{2048, 512, 16});
  std::size_t offset = 0;
  for (int requests = 0; requests < 8 && offset <= bytes.size(); ++requests) {
    RequestParser::Status status = parser.status();
    while (status == RequestParser::Status::NeedMore && offset < bytes.size()) {
      status = parser.feed(bytes.substr(offset, chunk));
      offset += chunk;
    }
    if (status == RequestParser::Status::Error) {
      const int code = parser.errorStatus();
      if (code < 400 || code > 599 || parser.errorReason().empty()) __builtin_trap();
      break;
    }
    if (status != RequestParser::Status::Complete) break;
    const auto& request = parser.request();
    if (request.method != "GET" && request.method != "HEAD") __builtin_trap();
    for (const std::string& segment : request.segments)
      if ((segment == ".." || segment == "." || segment.find('/') != std::string::npos) && !request.leavesRoot) __builtin_trap();
    (void)request.queryValue("token");
    (void)request.keepAlive();
    const std::string rest = parser.takeRemainder();
    if (!rest.empty()) parser.feed(rest);
  }
  // The pieces on their own, on the raw input.
  (void)modlab::web::parseTarget(bytes);
  (void)modlab::web::percentDecode(bytes, true);
  const std::string encoded = modlab::web::percentEncode(bytes);
  const auto decoded = modlab::web::percentDecode(encoded);
  if (bytes.find('\0') == std::string_view::npos && (!decoded || *decoded != bytes)) __builtin_trap();
  return 0;
}
