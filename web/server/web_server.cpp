#include "web/server/web_server.h"

#include <QElapsedTimer>
#include <QFile>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <algorithm>
#include <cmath>

#include "modlab/version.h"

namespace modlab::web {

using nlohmann::json;

namespace {

const char* kSecurityHeaders =
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Cross-Origin-Resource-Policy: same-origin\r\n";

const char* reasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

std::string contentType(const QString& name) {
  if (name.endsWith(".html")) return "text/html; charset=utf-8";
  if (name.endsWith(".js")) return "text/javascript; charset=utf-8";
  if (name.endsWith(".css")) return "text/css; charset=utf-8";
  if (name.endsWith(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

std::string join(const std::vector<std::string>& parts, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end; ++i) out += (i > begin ? "/" : "") + parts[i];
  return out;
}

// The longest prefix of `parts` (from `begin`) that names one of `ids`: its length, 0 when none.
std::size_t idPrefix(const std::vector<std::string>& parts, std::size_t begin, const std::vector<std::string>& ids) {
  for (std::size_t end = parts.size(); end > begin; --end)
    if (std::find(ids.begin(), ids.end(), join(parts, begin, end)) != ids.end()) return end - begin;
  return 0;
}

std::string cookieValue(const std::string& cookies, const std::string& name) {
  std::size_t pos = 0;
  while (pos < cookies.size()) {
    std::size_t end = cookies.find(';', pos);
    if (end == std::string::npos) end = cookies.size();
    std::string pair = cookies.substr(pos, end - pos);
    const std::size_t start = pair.find_first_not_of(' ');
    if (start != std::string::npos) pair = pair.substr(start);
    if (pair.rfind(name + "=", 0) == 0) return pair.substr(name.size() + 1);
    pos = end + 1;
  }
  return {};
}

double number(const std::string& text, double fallback) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    return used == text.size() && std::isfinite(v) ? v : fallback;
  } catch (const std::exception&) {
    return fallback;
  }
}

std::string truncated(const std::string& text, std::size_t limit = 120) {
  std::string out = text.size() > limit ? text.substr(0, limit) + "..." : text;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7f) c = '?';
  return out;
}

}  // namespace

bool constantTimeEquals(const std::string& a, const std::string& b) {
  const std::size_t n = std::max(a.size(), b.size());
  unsigned difference = a.size() == b.size() ? 0u : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    difference |= static_cast<unsigned>(x ^ y);
  }
  return difference == 0;
}

QString randomToken() {
  QByteArray bytes(24, Qt::Uninitialized);
  QRandomGenerator::system()->generate(reinterpret_cast<quint32*>(bytes.data()),
                                       reinterpret_cast<quint32*>(bytes.data() + bytes.size()));
  return QString::fromLatin1(bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

struct WebServer::Connection {
  QTcpSocket* socket = nullptr;
  RequestParser parser;
  QElapsedTimer active;
  QString peer;
  int requests = 0;
  bool streaming = false;
  bool head = false;  // the request being answered is a HEAD
  std::string runId;
  std::size_t trainSent = 0, evaluationsSent = 0;
  std::uint64_t generation = 0, revision = 0;
  QElapsedTimer pinged;
};

WebServer::WebServer(ViewSource* source, ServeOptions options, QObject* parent)
    : QObject(parent), source_(source), options_(std::move(options)), server_(new QTcpServer(this)) {
  if (!options_.bind.isLoopback()) options_.requireToken = true;
  if (options_.requireToken && options_.token.isEmpty()) options_.token = randomToken();
  server_->setMaxPendingConnections(64);
  connect(server_, &QTcpServer::newConnection, this, &WebServer::accept);
  ticker_.setInterval(options_.eventIntervalMs);
  connect(&ticker_, &QTimer::timeout, this, &WebServer::tick);
  idleTimer_.setInterval(1000);
  connect(&idleTimer_, &QTimer::timeout, this, &WebServer::sweepIdle);
}

WebServer::~WebServer() { close(); }

bool WebServer::listen(QString* error) {
  if (!server_->listen(options_.bind, options_.port)) {
    if (error)
      *error = QString("cannot listen on %1:%2: %3").arg(options_.bind.toString()).arg(options_.port).arg(server_->errorString());
    return false;
  }
  ticker_.start();
  idleTimer_.start();
  return true;
}

void WebServer::close() {
  ticker_.stop();
  idleTimer_.stop();
  server_->close();
  for (auto& [socket, c] : connections_) {
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
  }
  connections_.clear();
  if (viewers_ != 0) {
    viewers_ = 0;
    Q_EMIT viewersChanged(0);
  }
}

bool WebServer::isListening() const { return server_->isListening(); }
quint16 WebServer::port() const { return server_->serverPort(); }
int WebServer::viewerCount() const { return viewers_; }
int WebServer::connectionCount() const { return static_cast<int>(connections_.size()); }

QUrl WebServer::address(const QString& host) const {
  QUrl url;
  url.setScheme("http");
  QString h = host;
  if (h.isEmpty()) h = options_.bind == QHostAddress::Any || options_.bind == QHostAddress::AnyIPv4 ? "127.0.0.1" : options_.bind.toString();
  url.setHost(h);
  url.setPort(port());
  url.setPath("/");
  if (options_.requireToken) url.setQuery("token=" + options_.token);
  return url;
}

void WebServer::accept() {
  while (QTcpSocket* socket = server_->nextPendingConnection()) {
    if (static_cast<int>(connections_.size()) >= options_.maxConnections) {
      // Answered once the client has sent its request (a close before that would reset the
      // connection and lose the answer), and dropped after 2 s in any case.
      const auto answer503 = [socket] {
        socket->readAll();
        socket->write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        socket->disconnectFromHost();
      };
      connect(socket, &QTcpSocket::readyRead, socket, answer503);
      connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
      QTimer::singleShot(2000, socket, [socket] { socket->abort(); });
      Q_EMIT logLine(QString("%1 refused: %2 connections open (the limit)").arg(socket->peerAddress().toString()).arg(connections_.size()));
      continue;
    }
    auto c = std::make_unique<Connection>();
    c->socket = socket;
    c->parser = RequestParser(options_.limits);
    c->active.start();
    c->peer = socket->peerAddress().toString();
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { readFrom(socket); });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] { drop(socket); });
    connections_[socket] = std::move(c);
  }
}

void WebServer::drop(QTcpSocket* socket) {
  const auto it = connections_.find(socket);
  if (it == connections_.end()) return;
  const bool wasViewer = it->second->streaming;
  connections_.erase(it);
  socket->disconnect(this);
  socket->deleteLater();
  if (wasViewer) {
    --viewers_;
    Q_EMIT viewersChanged(viewers_);
  }
}

void WebServer::readFrom(QTcpSocket* socket) {
  const auto it = connections_.find(socket);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  QByteArray bytes = socket->readAll();
  if (c.streaming) return;  // a live stream reads nothing more from its client
  std::string pending(bytes.constData(), static_cast<std::size_t>(bytes.size()));
  while (!pending.empty() || c.parser.status() == RequestParser::Status::Complete) {
    const auto status = c.parser.feed(pending);
    pending.clear();
    if (status == RequestParser::Status::NeedMore) return;
    if (status == RequestParser::Status::Error) {
      refuse(c, c.parser.errorStatus(), c.parser.errorReason(), "(unparsed request)");
      return;
    }
    const HttpRequest request = c.parser.request();
    pending = c.parser.takeRemainder();
    c.active.restart();
    c.head = request.method == "HEAD";
    ++c.requests;
    handle(c, request);
    if (!connections_.count(socket) || c.streaming || socket->state() != QAbstractSocket::ConnectedState) return;
    if (!request.keepAlive() || c.requests >= 100) {
      socket->disconnectFromHost();
      return;
    }
  }
}

void WebServer::answer(Connection& c, int status, const std::string& type, const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers, bool close) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
  head += "Content-Type: " + type + "\r\n";
  head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  head += "Cache-Control: no-store\r\n";
  head += kSecurityHeaders;
  for (const auto& [k, v] : headers) head += k + ": " + v + "\r\n";
  if (close) head += "Connection: close\r\n";
  head += "\r\n";
  c.socket->write(head.data(), static_cast<qint64>(head.size()));
  if (c.head) return;
  c.socket->write(body.data(), static_cast<qint64>(body.size()));
}

void WebServer::refuse(Connection& c, int status, const std::string& reason, const std::string& what) {
  Q_EMIT logLine(QString("%1 %2 -> %3 %4").arg(c.peer, QString::fromStdString(truncated(what)))
                     .arg(status).arg(QString::fromStdString(reason)));
  const json body = {{"error", reasonPhrase(status)}, {"reason", reason}};
  const bool close = status != 404 && status != 401;
  answer(c, status, "application/json; charset=utf-8", body.dump(), {}, close);
  if (close) c.socket->disconnectFromHost();
}

bool WebServer::authorised(const HttpRequest& request, bool* viaQuery) const {
  *viaQuery = false;
  if (!options_.requireToken) return true;
  const std::string token = options_.token.toStdString();
  const std::string given = request.queryValue("token");
  if (!given.empty() && constantTimeEquals(given, token)) {
    *viaQuery = true;
    return true;
  }
  const std::string cookie = cookieValue(request.header("cookie"), "modlab_token");
  return !cookie.empty() && constantTimeEquals(cookie, token);
}

void WebServer::handle(Connection& c, const HttpRequest& request) {
  const std::string what = request.method + " " + request.target;
  bool viaQuery = false;
  if (!authorised(request, &viaQuery)) {
    refuse(c, 401, "this view needs its access token: open the address with ?token=... that the server printed", what);
    return;
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (viaQuery)
    headers.emplace_back("Set-Cookie", "modlab_token=" + options_.token.toStdString() + "; Path=/; HttpOnly; SameSite=Strict");
  const auto& s = request.segments;
  if (request.leavesRoot) return refuse(c, 404, "a path out of the served folder ('.', '..' or an escaped separator)", what);
  try {
    if (s.empty() || s[0] == "run" || s[0] == "sweep" || s[0] == "compare") {
      QFile page(":/web/index.html");
      if (!page.open(QIODevice::ReadOnly)) return refuse(c, 500, "the page is missing from this build", what);
      const QByteArray bytes = page.readAll();
      return answer(c, 200, "text/html; charset=utf-8", bytes.toStdString(), headers);
    }
    if (s[0] == "static" && s.size() == 2) {
      QFile file(":/web/" + QString::fromStdString(s[1]));
      if (!file.open(QIODevice::ReadOnly)) return refuse(c, 404, "no such file", what);
      return answer(c, 200, contentType(file.fileName()), file.readAll().toStdString(), headers);
    }
    if (s[0] == "api" && s.size() >= 2) return serveApi(c, request);
    refuse(c, 404, "no such page", what);
  } catch (const std::exception& e) {
    refuse(c, 500, e.what(), what);
  }
}

void WebServer::serveApi(Connection& c, const HttpRequest& request) {
  const auto& s = request.segments;
  const std::string what = request.method + " " + request.target;
  const std::string jsonType = "application/json; charset=utf-8";
  if (s[1] == "info" && s.size() == 2) {
    const json info = {{"kind", source_->kind()}, {"title", source_->title()}, {"version", versionString()},
                       {"live", source_->kind() == "live"}};
    return answer(c, 200, jsonType, info.dump());
  }
  if (s[1] == "runs" && s.size() == 2) {
    json runs = json::array();
    for (const std::string& id : source_->runIds())
      if (RunView* view = source_->run(id, false)) {
        json row = view->summary();
        row["id"] = id;
        runs.push_back(std::move(row));
      }
    return answer(c, 200, jsonType, json{{"title", source_->title()}, {"kind", source_->kind()}, {"runs", runs},
                                         {"sweeps", source_->sweepIds()}}.dump());
  }
  if (s[1] == "run" && s.size() >= 3) {
    const std::size_t n = idPrefix(s, 2, source_->runIds());
    if (n == 0) return refuse(c, 404, "no such run", what);
    return serveRun(c, request, std::vector<std::string>(s.begin() + 2, s.end()));
  }
  if (s[1] == "sweep" && s.size() >= 3) {
    const std::size_t n = idPrefix(s, 2, source_->sweepIds());
    if (n == 0) return refuse(c, 404, "no such sweep", what);
    const std::string id = join(s, 2, 2 + n);
    if (s.size() == 2 + n) {
      const auto report = source_->sweep(id);
      if (!report) return refuse(c, 404, "no such sweep", what);
      return answer(c, 200, jsonType, report->dump(-1, ' ', false, json::error_handler_t::replace));
    }
    if (s.size() == 3 + n && s.back() == "report.csv") {
      const auto csv = source_->sweepCsv(id);
      if (!csv) return refuse(c, 404, "no such sweep", what);
      return answer(c, 200, "text/csv; charset=utf-8", *csv, {{"Content-Disposition", "attachment; filename=\"report.csv\""}});
    }
    return refuse(c, 404, "no such sweep resource", what);
  }
  if (s[1] == "compare" && s.size() == 2) {
    const auto ids = request.queryValues("run");
    if (ids.empty() || ids.size() > 64) return refuse(c, 400, "compare takes 1 to 64 run= parameters", what);
    const auto result = source_->compare(ids, request.queryValue("model"), request.queryValue("quantity"),
                                         number(request.queryValue("smoothing"), 0.0));
    if (!result) return refuse(c, 404, "an unknown run or quantity", what);
    return answer(c, 200, jsonType, result->dump(-1, ' ', false, json::error_handler_t::replace));
  }
  refuse(c, 404, "no such resource", what);
}

void WebServer::serveRun(Connection& c, const HttpRequest& request, const std::vector<std::string>& rest) {
  const std::string what = request.method + " " + request.target;
  const std::size_t n = idPrefix(rest, 0, source_->runIds());
  const std::string id = join(rest, 0, n);
  RunView* view = source_->run(id);
  if (!view) return refuse(c, 404, "no such run", what);
  const std::vector<std::string> tail(rest.begin() + static_cast<std::ptrdiff_t>(n), rest.end());
  const std::string jsonType = "application/json; charset=utf-8";
  const auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  if (tail.empty()) {
    json page = view->page(static_cast<int>(number(request.queryValue("width"), 1200)),
                           number(request.queryValue("smoothing"), 0.0));
    page["id"] = id;
    return answer(c, 200, jsonType, dump(page));
  }
  if (tail.size() == 1 && tail[0] == "events") return startEvents(c, request, id);
  if (tail.size() == 2 && tail[0] == "evaluation") {
    const double k = number(tail[1], -1);
    if (k < 0 || k != std::floor(k) || k >= static_cast<double>(view->evaluationCount()))
      return refuse(c, 404, "no such evaluation", what);
    return answer(c, 200, jsonType, dump(view->heatmaps(static_cast<std::size_t>(k))));
  }
  const auto attachment = [&](const std::string& file, const std::string& body) {
    answer(c, 200, "text/csv; charset=utf-8", body, {{"Content-Disposition", "attachment; filename=\"" + file + "\""}});
  };
  if (tail.size() == 1 && tail[0] == "loss.csv") return attachment("loss-chart.csv", view->lossCsv());
  if (tail.size() == 1 && tail[0] == "metrics.csv") {
    if (request.queryValue("evaluation").empty()) return attachment("metrics-history.csv", view->metricsCsv());
    const double k = number(request.queryValue("evaluation"), -1);
    if (k < 0 || k != std::floor(k) || k >= static_cast<double>(view->evaluationCount()))
      return refuse(c, 404, "no such evaluation", what);
    return attachment("metrics.csv", view->metricsCsv(view->evaluations()[static_cast<std::size_t>(k)].step));
  }
  if (tail.size() == 1 && tail[0] == "heatmaps.csv") {
    const double k = number(request.queryValue("evaluation"), static_cast<double>(view->evaluationCount()) - 1);
    if (k < 0 || k != std::floor(k) || k >= static_cast<double>(view->evaluationCount()))
      return refuse(c, 404, "no such evaluation", what);
    return attachment("heatmaps.csv", view->heatmapsCsv(static_cast<std::size_t>(k)));
  }
  refuse(c, 404, "no such run resource", what);
}

void WebServer::startEvents(Connection& c, const HttpRequest& request, const std::string& id) {
  RunView* view = source_->run(id);
  const std::string head = std::string("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n") +
                           kSecurityHeaders + "Connection: close\r\n\r\nretry: 2000\n\n";
  c.socket->write(head.data(), static_cast<qint64>(head.size()));
  c.streaming = true;
  c.runId = id;
  c.trainSent = static_cast<std::size_t>(std::max(0.0, number(request.queryValue("train"), 0)));
  c.evaluationsSent = static_cast<std::size_t>(std::max(0.0, number(request.queryValue("evaluations"), 0)));
  c.generation = static_cast<std::uint64_t>(std::max(0.0, number(request.queryValue("generation"), 0)));
  c.revision = 0;
  c.pinged.start();
  if (view && c.generation != view->generation()) {
    c.socket->write("event: reset\ndata: {}\n\n");
    c.generation = view->generation();
  }
  ++viewers_;
  Q_EMIT viewersChanged(viewers_);
}

void WebServer::tick() {
  std::map<std::string, std::vector<Connection*>> byRun;
  for (auto& [socket, c] : connections_)
    if (c->streaming) byRun[c->runId].push_back(c.get());
  std::vector<QTcpSocket*> gone;
  for (auto& [id, viewers] : byRun) {
    RunView* view = source_->run(id);
    std::map<std::pair<std::size_t, std::size_t>, QByteArray> encoded;  // one encoding per starting point
    for (Connection* c : viewers) {
      if (c->socket->bytesToWrite() > 16 * 1024 * 1024) {  // a viewer that reads nothing
        Q_EMIT logLine(QString("%1 dropped: its live stream is 16 MiB behind").arg(c->peer));
        gone.push_back(c->socket);
        continue;
      }
      if (!view) {
        c->socket->write("event: gone\ndata: {}\n\n");
        c->socket->disconnectFromHost();
        continue;
      }
      const bool behind = view->trainCount() > c->trainSent + 200000;
      if (c->generation != view->generation() || behind || c->trainSent > view->trainCount()) {
        c->socket->write("event: reset\ndata: {}\n\n");  // the page loads the run again
        c->generation = view->generation();
        c->trainSent = view->trainCount();
        c->evaluationsSent = view->evaluationCount();
        c->revision = view->revision();
        continue;
      }
      if (c->revision == view->revision()) {
        if (c->pinged.elapsed() > 15000) {
          c->socket->write(": ping\n\n");
          c->pinged.restart();
        }
        continue;
      }
      const auto key = std::pair{c->trainSent, c->evaluationsSent};
      auto it = encoded.find(key);
      if (it == encoded.end()) {
        const std::string data = view->update(c->trainSent, c->evaluationsSent).dump(-1, ' ', false, json::error_handler_t::replace);
        it = encoded.emplace(key, QByteArray::fromStdString("event: update\ndata: " + data + "\n\n")).first;
      }
      c->socket->write(it->second);
      c->trainSent = view->trainCount();
      c->evaluationsSent = view->evaluationCount();
      c->revision = view->revision();
      c->pinged.restart();
    }
  }
  for (QTcpSocket* s : gone) {
    s->abort();
    drop(s);
  }
}

void WebServer::sweepIdle() {
  std::vector<QTcpSocket*> idle;
  for (auto& [socket, c] : connections_)
    if (!c->streaming && c->active.elapsed() > options_.idleSeconds * 1000) idle.push_back(socket);
  for (QTcpSocket* s : idle) {
    s->abort();
    drop(s);
  }
}

}  // namespace modlab::web
