// The browser view's HTTP server: the page (resources/web, compiled in), a JSON API over a
// ViewSource, and Server-Sent Events that push what a followed run adds, at most 4 times a
// second, encoded once for all the viewers at the same point. Read-only: no endpoint writes,
// starts, stops or steers anything. One thread (the Qt event loop it runs on).
//
// Security: bound to 127.0.0.1 unless told otherwise; on any other address every request needs
// the access token (the address carries it; the page keeps it in a SameSite cookie), compared
// in constant time. Limits on request size, header count, open connections and idle time;
// security headers (a Content-Security-Policy with no inline script, nosniff) on every answer;
// every refused request gets a 4xx and a log line.
#pragma once

#include <QHostAddress>
#include <QObject>
#include <QTimer>
#include <QUrl>
#include <map>
#include <memory>

#include "web/http/http_request.h"
#include "web/server/view_source.h"

class QTcpServer;
class QTcpSocket;

namespace modlab::web {

struct ServeOptions {
  QHostAddress bind = QHostAddress::LocalHost;
  quint16 port = 8750;  // 0: any free port
  bool requireToken = false;  // always true for an address other than loopback
  QString token;              // "" with requireToken: a random one is made
  int maxConnections = 256;
  int idleSeconds = 30;        // a connection with no complete request for this long is closed
  int eventIntervalMs = 250;   // live updates at most 4 per second per viewer
  HttpLimits limits;
};

class WebServer : public QObject {
  Q_OBJECT
public:
  WebServer(ViewSource* source, ServeOptions options, QObject* parent = nullptr);
  ~WebServer() override;
  // Starts listening; false with a message (the address and why) when it cannot.
  bool listen(QString* error = nullptr);
  void close();
  bool isListening() const;
  quint16 port() const;
  // The address to open: http://HOST:PORT/ with ?token=... when one is needed. `host` replaces
  // the bound address (e.g. the machine's LAN address when bound to 0.0.0.0).
  QUrl address(const QString& host = {}) const;
  const QString& token() const { return options_.token; }
  int viewerCount() const;      // open live streams
  int connectionCount() const;

Q_SIGNALS:
  void viewersChanged(int viewers);
  void logLine(const QString& line);  // each refused request and each error, one line

private:
  struct Connection;
  void accept();
  void readFrom(QTcpSocket* socket);
  void handle(Connection& c, const HttpRequest& request);
  void answer(Connection& c, int status, const std::string& type, const std::string& body,
              const std::vector<std::pair<std::string, std::string>>& headers = {}, bool close = false);
  void refuse(Connection& c, int status, const std::string& reason, const std::string& what);
  bool authorised(const HttpRequest& request, bool* viaQuery) const;
  void serveApi(Connection& c, const HttpRequest& request);
  void serveRun(Connection& c, const HttpRequest& request, const std::vector<std::string>& rest);
  void startEvents(Connection& c, const HttpRequest& request, const std::string& id);
  void tick();   // pushes live updates
  void sweepIdle();
  void drop(QTcpSocket* socket);

  ViewSource* source_;
  ServeOptions options_;
  QTcpServer* server_;
  std::map<QTcpSocket*, std::unique_ptr<Connection>> connections_;
  QTimer ticker_, idleTimer_;
  int viewers_ = 0;
};

// Equal strings in time that depends only on their lengths, not on where they differ.
bool constantTimeEquals(const std::string& a, const std::string& b);
// A random token of 32 URL-safe characters (190 bits) from the system's entropy.
QString randomToken();

}  // namespace modlab::web
